import { createRequire } from 'node:module';

/** The kafkajs releases mlstream's patches of kafkajs's own modules are written for. */
const KAFKAJS_RELEASE = /^2\.2\.\d+$/;

/**
 * `find(require)` over the installed kafkajs's own modules, and that `require`, for the patches
 * of kafkajs's internals (kafkajs-frames.ts, kafkajs-records.ts, kafkajs-produce.ts,
 * fetch-memory.ts). Undefined when kafkajs is not a 2.2 release or `find` throws (a module is
 * not where 2.2 has it): the caller then leaves kafkajs as it is.
 */
export function kafkajsInternals<T>(find: (require: NodeJS.Require) => T): { readonly require: NodeJS.Require; readonly found: T } | undefined {
  const require = createRequire(import.meta.url);
  try {
    const { version } = require('kafkajs/package.json') as { version: string };
    return KAFKAJS_RELEASE.test(version) ? { require, found: find(require) } : undefined;
  } catch {
    return undefined;
  }
}
