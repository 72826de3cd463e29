import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StageRegistry } from './registry.js';
import type { StageFactory } from './stage.js';

/**
 * What a plugin module exports: a `register(registry)` function (named or default), or a
 * `stages` record of class name → factory. Either way its classes go through the same
 * registry as the built-in stages.
 */
export interface PluginModule {
  register?: (registry: StageRegistry) => void | Promise<void>;
  default?: ((registry: StageRegistry) => void | Promise<void>) | { stages?: Record<string, StageFactory> };
  stages?: Record<string, StageFactory>;
}

export class PluginError extends Error {
  override name = 'PluginError';
}

/**
 * Loads plugin modules named when the runtime starts: a path (relative to the working
 * directory) or an installed package name. Never called for anything inside a package.
 */
export async function loadPlugins(specs: readonly string[], registry: StageRegistry, cwd = process.cwd()): Promise<string[]> {
  const added: string[] = [];
  for (const spec of specs) {
    const before = new Set(registry.known());
    const target = spec.startsWith('.') || isAbsolute(spec) ? pathToFileURL(resolve(cwd, spec)).href : spec;
    let mod: PluginModule;
    try {
      if (TYPESCRIPT.test(spec)) await registerTypeScript();
      mod = (await import(target)) as PluginModule;
    } catch (e) {
      throw new PluginError(`cannot load plugin "${spec}": ${(e as Error).message}`);
    }
    try {
      if (typeof mod.register === 'function') await mod.register(registry);
      else if (typeof mod.default === 'function') await mod.default(registry);
      else {
        const stages = mod.stages ?? (typeof mod.default === 'object' ? mod.default?.stages : undefined);
        if (!stages) throw new Error('it exports neither register(registry) nor stages');
        for (const [className, factory] of Object.entries(stages)) registry.register(className, factory);
      }
    } catch (e) {
      throw new PluginError(`plugin "${spec}" failed to register: ${(e as Error).message}`);
    }
    const now = registry.known().filter((c) => !before.has(c));
    if (now.length === 0) throw new PluginError(`plugin "${spec}" registered no stage class`);
    added.push(...now);
  }
  return added;
}

const TYPESCRIPT = /\.[cm]?ts$/;

/**
 * The runtime itself runs compiled, so Node cannot import a plugin written in TypeScript
 * until tsx's hook is registered; it is, once, for the first such plugin only.
 */
let typeScriptRegistered: Promise<void> | undefined;
function registerTypeScript(): Promise<void> {
  typeScriptRegistered ??= import('tsx/esm/api').then((tsx) => void tsx.register());
  return typeScriptRegistered;
}
