import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded on its first use instead of at start-up. For modules only
 * some packages or settings need (protobufjs for tf.train.Example and ONNX ZipMaps,
 * pino-pretty on a terminal): importing them eagerly cost every `mlstream serve` tens of
 * milliseconds before its first prediction.
 */
export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
