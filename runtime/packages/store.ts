import { EventEmitter } from 'node:events';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import type { StageRegistry } from '../pipeline/registry.js';
import { PackageError } from './errors.js';
import { loadPackage, type ModelVersion } from './package.js';

export interface Refusal {
  readonly name: string;
  readonly reason: string;
  readonly at: Date;
}

/** A version handed to one batch; released when the batch is done with it. */
export interface Lease {
  readonly model: ModelVersion;
  release(): void;
}

interface Entry {
  readonly model: ModelVersion;
  users: number;
  retired: boolean;
}

export interface StoreOptions {
  /** MODEL_PIPELINE: the package to serve; unset, the only loaded package serves. */
  readonly selected?: string | undefined;
  /** Quiet time after the last file event in a package folder before it is (re)loaded. */
  readonly settleMs?: number;
  /** Watch the folder for changes (off for one-shot uses). */
  readonly watch?: boolean;
}

/**
 * Every package in MODELS_DIR, loaded, checked and watched. A package folder is (re)loaded
 * once its files have stopped changing; the new version is loaded and warmed up beside the
 * old one and swapped in between two batches; the old one is disposed of when the last
 * batch using it releases it. A refused version leaves the previous one serving. Folders
 * whose name starts with a dot are ignored, so copying to `.name.tmp` and renaming to
 * `name` is the atomic way to publish.
 *
 * Events: 'loaded' (ModelVersion), 'refused' (Refusal), 'removed' (name).
 */
export class ModelStore extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  private readonly refusals = new Map<string, Refusal>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private watcher: FSWatcher | undefined;
  private closed = false;
  private readonly settleMs: number;
  counts = { loads: 0, refusals: 0, removals: 0 };

  constructor(
    private readonly modelsDir: string,
    private readonly registry: StageRegistry,
    private readonly log: Logger,
    private readonly options: StoreOptions = {},
  ) {
    super();
    this.settleMs = options.settleMs ?? 500;
  }

  /** Loads every package found now, then watches for changes. */
  async start(): Promise<void> {
    // Watching needs the folder to exist; an empty models volume is a normal start.
    await mkdir(this.modelsDir, { recursive: true });
    for (const name of await this.packageNames()) await this.reload(name);
    if (this.options.watch !== false) await this.watchFolder();
    if (!this.current()) this.log.warn({ modelsDir: this.modelsDir, selected: this.options.selected ?? null }, 'no model package to serve yet; records go to errors as NO_MODEL');
  }

  /** The version that serves records now. */
  current(): ModelVersion | undefined {
    return this.currentEntry()?.model;
  }

  /** Pins the current version for one batch, so a swap cannot pull it away mid-batch. */
  acquire(): Lease | undefined {
    const entry = this.currentEntry();
    if (!entry) return undefined;
    entry.users++;
    let released = false;
    return {
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.retired && entry.users === 0) void this.dispose(entry);
      },
    };
  }

  loaded(): ModelVersion[] {
    return [...this.entries.values()].map((e) => e.model);
  }

  refusal(): Refusal | undefined {
    let last: Refusal | undefined;
    for (const r of this.refusals.values()) if (!last || r.at > last.at) last = r;
    return last;
  }

  allRefusals(): Refusal[] {
    return [...this.refusals.values()];
  }

  /** Resolves when no load is pending or running (tests and shutdown use it). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.loading.size > 0) {
      await Promise.all([...this.loading.values()]);
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.watcher?.close();
    await Promise.all([...this.loading.values()]);
    for (const entry of this.entries.values()) {
      entry.retired = true;
      if (entry.users === 0) await this.dispose(entry);
    }
    this.entries.clear();
  }

  private currentEntry(): Entry | undefined {
    if (this.options.selected) return this.entries.get(this.options.selected);
    if (this.entries.size === 1) return this.entries.values().next().value;
    return undefined;
  }

  private async packageNames(): Promise<string[]> {
    try {
      const dirents = await readdir(this.modelsDir, { withFileTypes: true });
      return dirents.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
    } catch {
      this.log.warn({ modelsDir: this.modelsDir }, 'models folder does not exist (yet)');
      return [];
    }
  }

  private async watchFolder(): Promise<void> {
    this.watcher = watch(this.modelsDir, {
      ignoreInitial: true,
      depth: 20,
      // A file's events wait until its size has stopped changing, so a half-written
      // parquet file never triggers a load on its own.
      awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 },
      ignored: (path: string) => this.packageOf(path)?.startsWith('.') ?? false,
    });
    this.watcher.on('all', (_event, path) => {
      const name = this.packageOf(path);
      if (name && !name.startsWith('.')) this.schedule(name);
    });
    this.watcher.on('error', (e) => this.log.error({ err: e }, 'watching the models folder failed'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', resolve));
  }

  private packageOf(path: string): string | undefined {
    const rel = relative(this.modelsDir, path);
    if (!rel || rel.startsWith('..')) return undefined;
    return rel.split(sep)[0];
  }

  /** Debounces a package folder's events: it loads once they have been quiet for settleMs. */
  private schedule(name: string): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(name));
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        void this.reload(name);
      }, this.settleMs),
    );
  }

  /** One load per package at a time; events during a load cause one more load after it. */
  private async reload(name: string): Promise<void> {
    const running = this.loading.get(name);
    if (running) {
      this.dirty.add(name);
      return running;
    }
    const job = this.loadOrRemove(name).finally(() => {
      this.loading.delete(name);
      if (this.dirty.delete(name)) this.schedule(name);
    });
    this.loading.set(name, job);
    return job;
  }

  private async loadOrRemove(name: string): Promise<void> {
    const dir = join(this.modelsDir, name);
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      this.remove(name);
      return;
    }
    const started = Date.now();
    try {
      const next = await loadPackage(dir, this.registry, name);
      const previous = this.entries.get(name);
      if (this.closed || previous?.model.version === next.version) {
        await next.pipeline.dispose();
        return;
      }
      this.entries.set(name, { model: next, users: 0, retired: false });
      this.refusals.delete(name);
      this.counts.loads++;
      this.log.info({ model: name, version: next.version, previous: previous?.model.version ?? null, stages: next.pipeline.active.length, ms: Date.now() - started }, 'model package serving');
      this.emit('loaded', next);
      if (previous) this.retire(previous);
    } catch (e) {
      const reason = e instanceof PackageError ? e.message : `unexpected failure: ${(e as Error).message}`;
      const refusal = { name, reason, at: new Date() };
      this.refusals.set(name, refusal);
      this.counts.refusals++;
      const serving = this.entries.get(name)?.model.version ?? null;
      this.log.error({ model: name, reason, stillServing: serving }, 'model package refused');
      this.emit('refused', refusal);
    }
  }

  private remove(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) {
      // A refused package that never loaded is gone too: its refusal no longer stands.
      if (this.refusals.delete(name)) this.emit('removed', name);
      return;
    }
    this.entries.delete(name);
    this.refusals.delete(name);
    this.counts.removals++;
    this.log.info({ model: name, version: entry.model.version }, 'model package removed');
    this.emit('removed', name);
    this.retire(entry);
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    if (entry.users === 0) void this.dispose(entry);
  }

  private async dispose(entry: Entry): Promise<void> {
    try {
      await entry.model.pipeline.dispose();
    } catch (e) {
      this.log.warn({ err: e, model: entry.model.name }, 'releasing a retired version failed');
    }
  }
}
