import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { StageRegistry } from '../pipeline/registry.js';
import { PackageError } from './errors.js';
import { loadPackage, type ModelVersion } from './package.js';

export interface Refusal {
  readonly name: string;
  readonly reason: string;
  readonly at: Date;
}

/**
 * The versions being served. The hot path reads `current()` once per batch, so a swap
 * lands between batches and a batch finishes on the version it started with.
 */
export class ModelStore {
  private served: ModelVersion | undefined;
  private lastRefusal: Refusal | undefined;

  constructor(
    private readonly modelsDir: string,
    private readonly modelName: string | undefined,
    private readonly registry: StageRegistry,
    private readonly log: Logger,
  ) {}

  current(): ModelVersion | undefined {
    return this.served;
  }

  refusal(): Refusal | undefined {
    return this.lastRefusal;
  }

  /** The package folder to serve: MODEL_PIPELINE, or the only package in the folder. */
  async resolveName(): Promise<string | undefined> {
    if (this.modelName) return this.modelName;
    let names: string[];
    try {
      names = (await readdir(this.modelsDir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
    } catch {
      return undefined;
    }
    if (names.length === 1) return names[0];
    if (names.length > 1) this.log.warn({ modelsDir: this.modelsDir, packages: names }, 'several packages found; set MODEL_PIPELINE to choose one');
    return undefined;
  }

  /** Loads (or reloads) the served package; a refused version leaves the previous one serving. */
  async load(): Promise<ModelVersion | undefined> {
    const name = await this.resolveName();
    if (!name) {
      this.log.warn({ modelsDir: this.modelsDir }, 'no model package to serve; records go to errors as NO_MODEL');
      return undefined;
    }
    const started = Date.now();
    try {
      const next = await loadPackage(join(this.modelsDir, name), this.registry, name);
      const previous = this.served;
      this.served = next;
      this.log.info({ model: name, version: next.version, stages: next.pipeline.active.length, ms: Date.now() - started }, 'model package serving');
      if (previous && previous !== next) await previous.pipeline.dispose();
      return next;
    } catch (e) {
      const reason = e instanceof PackageError ? e.message : `unexpected failure: ${(e as Error).stack ?? e}`;
      this.lastRefusal = { name, reason, at: new Date() };
      this.log.error({ model: name, reason }, 'model package refused');
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.served?.pipeline.dispose();
    this.served = undefined;
  }
}
