import { EventEmitter } from 'node:events';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import type { StageRegistry } from '../pipeline/registry.js';
import { PackageError } from './errors.js';
import { contentHash, loadPackage, type ModelVersion } from './package.js';
import { SERVING_KEYS, packageLayout, readServingSettings, servingRoles, type PackageLayout, type ServingRoles, type ServingSettings } from './serving.js';

export interface Refusal {
  readonly name: string;
  /** The refused version folder in the versioned layout; absent for a flat package or the package as a whole. */
  readonly version?: string;
  readonly reason: string;
  readonly at: Date;
}

/** A version handed to one batch; released when the batch is done with it. */
export interface Lease {
  readonly model: ModelVersion;
  release(): void;
}

/** What one slice serves from: every package as it was when the slice started, pinned until released. */
export interface Snapshot {
  /** Changes whenever anything in the store does. */
  readonly generation: number;
  readonly packages: ReadonlyMap<string, PackageView>;
  /** The package records that name none go to: MODEL_PIPELINE, or the only package not bound to a topic. */
  readonly defaultName: string | undefined;
  release(): void;
}

export interface PackageView {
  readonly name: string;
  readonly layout: PackageLayout['kind'];
  readonly settings: ServingSettings;
  /** Every loaded version, by label. */
  readonly versions: ReadonlyMap<string, ModelVersion>;
  readonly roles: ServingRoles;
}

interface VersionEntry {
  readonly model: ModelVersion;
  users: number;
  retired: boolean;
}

interface PackageEntry {
  layout: PackageLayout['kind'];
  settings: ServingSettings;
  readonly versions: Map<string, VersionEntry>;
  /**
   * False until every version folder has been tried once: until then its records wait, so
   * that a pin, canary or shadow is never served from a half-loaded set of versions.
   */
  complete: boolean;
}

export interface StoreOptions {
  /** MODEL_PIPELINE: the default package; unset, the only package not bound to a topic. */
  readonly selected?: string | undefined;
  /** Quiet time after the last file event in a package folder before it is (re)loaded. */
  readonly settleMs?: number;
  /** Watch the folder for changes (off for one-shot uses). */
  readonly watch?: boolean;
  /** Longest one version's load may take before it is refused; other packages never wait for it. */
  readonly loadTimeoutMs?: number;
}

/**
 * Every package in MODELS_DIR, loaded, checked and watched, with all its versions. A
 * package folder is (re)loaded once its files have stopped changing; each new or changed
 * version is loaded and warmed up beside what serves and swapped in between two slices;
 * a retired version is disposed of when the last slice using it releases it. A refused
 * version leaves the previous one serving. Folders whose name starts with a dot are
 * ignored, so copying to `.name.tmp` and renaming to `name` is the atomic way to publish.
 *
 * Events: 'loaded' (ModelVersion), 'refused' (Refusal), 'removed' (name), 'changed' (generation).
 */
export class ModelStore extends EventEmitter {
  private readonly entries = new Map<string, PackageEntry>();
  private readonly refusals = new Map<string, Refusal>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  /** Package folders present, loaded or not, with the topic each is bound to (read from config.json before any load). */
  private readonly folders = new Map<string, string | undefined>();
  private watcher: FSWatcher | undefined;
  private closed = false;
  private generationCounter = 0;
  private snapshotCache: Omit<Snapshot, 'release'> | undefined;
  private readonly settleMs: number;
  private readonly loadTimeoutMs: number;
  counts = { loads: 0, refusals: 0, removals: 0 };

  constructor(
    private readonly modelsDir: string,
    private readonly registry: StageRegistry,
    private readonly log: Logger,
    private readonly options: StoreOptions = {},
  ) {
    super();
    this.settleMs = options.settleMs ?? 500;
    this.loadTimeoutMs = options.loadTimeoutMs ?? 120_000;
  }

  /**
   * Finds every package folder and its bound topic, starts watching, and loads them all.
   * With `wait: false` it returns once the folders are known and loads go on in the
   * background, so a slow package delays neither the consumer nor HTTP.
   */
  async start(options: { wait?: boolean } = {}): Promise<void> {
    // Watching needs the folder to exist; an empty models volume is a normal start.
    await mkdir(this.modelsDir, { recursive: true });
    const names = await this.packageNames();
    await Promise.all(names.map((name) => this.discover(name)));
    if (this.options.watch !== false) await this.watchFolder();
    const loads = Promise.all(names.map((name) => this.reload(name)));
    if (options.wait !== false) await loads;
  }

  get generation(): number {
    return this.generationCounter;
  }

  /** The package folders present now, loaded or not. */
  folderNames(): string[] {
    return [...this.folders.keys()].sort();
  }

  /** Topics packages are bound to (config.json `input_topic`), as read from their folders. */
  boundTopics(): string[] {
    return [...new Set([...this.folders.values()].filter((t): t is string => t !== undefined))].sort();
  }

  /** Topic → the package folder bound to it, loaded or not; of two folders naming one topic, the first by name wins. */
  bindings(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of this.folderNames()) {
      const topic = this.folders.get(name);
      if (topic !== undefined && !out.has(topic)) out.set(topic, name);
    }
    return out;
  }

  isLoading(name: string): boolean {
    return this.loading.has(name) || this.timers.has(name);
  }

  /** The default package's primary version: what serves records that name no package. */
  current(): ModelVersion | undefined {
    const snap = this.view();
    const pkg = snap.defaultName === undefined ? undefined : snap.packages.get(snap.defaultName);
    return pkg?.roles.primary === undefined ? undefined : pkg.versions.get(pkg.roles.primary);
  }

  /** Pins the default package's primary version for one batch. */
  acquire(): Lease | undefined {
    const model = this.current();
    if (!model) return undefined;
    const snap = this.snapshot();
    return { model, release: () => snap.release() };
  }

  /** Pins every loaded version for one slice, so a swap cannot pull one away mid-slice. */
  snapshot(): Snapshot {
    const view = this.view();
    const pinned: VersionEntry[] = [];
    for (const pkg of this.entries.values()) {
      for (const v of pkg.versions.values()) {
        v.users++;
        pinned.push(v);
      }
    }
    let released = false;
    return {
      ...view,
      release: () => {
        if (released) return;
        released = true;
        for (const v of pinned) {
          v.users--;
          if (v.retired && v.users === 0) void this.dispose(v);
        }
      },
    };
  }

  loaded(): ModelVersion[] {
    return [...this.entries.values()].flatMap((p) => [...p.versions.values()].map((v) => v.model));
  }

  /** Every package with its loaded versions and their roles. */
  packages(): PackageView[] {
    return [...this.view().packages.values()];
  }

  defaultName(): string | undefined {
    return this.view().defaultName;
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
    for (const pkg of this.entries.values()) for (const v of pkg.versions.values()) this.retire(v);
    this.entries.clear();
  }

  private view(): Omit<Snapshot, 'release'> {
    if (this.snapshotCache?.generation === this.generationCounter) return this.snapshotCache;
    const packages = new Map<string, PackageView>();
    for (const [name, pkg] of this.entries) {
      const versions = new Map([...pkg.versions].map(([label, v]) => [label, v.model] as const));
      if (versions.size === 0 || !pkg.complete) continue;
      packages.set(name, { name, layout: pkg.layout, settings: pkg.settings, versions, roles: servingRoles(pkg.settings, pkg.layout, [...versions.keys()]) });
    }
    this.snapshotCache = { generation: this.generationCounter, packages, defaultName: this.chooseDefault() };
    return this.snapshotCache;
  }

  private chooseDefault(): string | undefined {
    if (this.options.selected) return this.options.selected;
    const unbound = [...this.folders].filter(([, topic]) => topic === undefined).map(([name]) => name);
    return unbound.length === 1 ? unbound[0] : undefined;
  }

  private changed(): void {
    this.generationCounter++;
    this.emit('changed', this.generationCounter);
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

  /** Reads a package folder's layout and bound topic, cheaply, before any load. */
  private async discover(name: string): Promise<PackageLayout | undefined> {
    const dir = join(this.modelsDir, name);
    try {
      const layout = await packageLayout(dir);
      const settings = await readServingSettings(dir, layout).catch(() => ({}) as ServingSettings);
      this.setFolder(name, settings.input_topic);
      return layout;
    } catch {
      return undefined;
    }
  }

  private setFolder(name: string, topic: string | undefined): void {
    if (this.folders.has(name) && this.folders.get(name) === topic) return;
    this.folders.set(name, topic);
    this.changed();
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
    const job = this.loadOrRemove(name)
      .catch((e: unknown) => this.refuse(name, undefined, `unexpected failure: ${(e as Error).message}`))
      .finally(() => {
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
      this.removePackage(name);
      return;
    }
    const layout = await packageLayout(dir);
    let settings: ServingSettings;
    try {
      settings = await readServingSettings(dir, layout);
    } catch (e) {
      this.refuse(name, undefined, (e as Error).message);
      return;
    }
    this.setFolder(name, settings.input_topic);
    const pkg = this.entries.get(name) ?? { layout: layout.kind, settings, versions: new Map<string, VersionEntry>(), complete: false };
    this.entries.set(name, pkg);
    if (pkg.layout !== layout.kind || JSON.stringify(pkg.settings) !== JSON.stringify(settings)) {
      pkg.layout = layout.kind;
      pkg.settings = settings;
      this.refusals.delete(name);
      this.changed();
    }
    const wanted = layout.kind === 'flat' ? [{ label: undefined, dir }] : layout.versions.map((n) => ({ label: String(n), dir: join(dir, String(n)) }));
    // A flat package's label is its content hash; a version folder's is its number.
    for (const key of [...pkg.versions.keys()]) {
      const kept = layout.kind === 'flat' ? wanted.length === 1 && /^[0-9a-f]{12}$/.test(key) : wanted.some((w) => w.label === key);
      if (!kept) this.retireVersion(name, pkg, key, layout.kind === 'flat' ? 'the package now holds one flat version' : 'its folder was removed');
    }
    // Newest first, so the version that will serve is ready soonest.
    for (const w of [...wanted].reverse()) await this.loadVersion(name, pkg, w.dir, w.label);
    if (!pkg.complete) {
      pkg.complete = true;
      this.changed();
    }
    if (pkg.versions.size === 0) this.log.warn({ model: name }, 'no version of this package loaded; its records wait');
  }

  private async loadVersion(name: string, pkg: PackageEntry, dir: string, label: string | undefined): Promise<void> {
    const started = Date.now();
    const existing = label === undefined ? [...pkg.versions.values()][0] : pkg.versions.get(label);
    let next: ModelVersion;
    try {
      const hash = await contentHash(dir);
      if (existing?.model.contentHash === hash) return;
      if (label !== undefined) await refuseServingKeys(dir);
      next = await this.withinLoadTimeout(loadPackage(dir, this.registry, name, label), dir);
    } catch (e) {
      this.refuse(name, label, e instanceof PackageError ? e.message : `unexpected failure: ${(e as Error).message}`, existing?.model.version);
      return;
    }
    if (this.closed) {
      await next.pipeline.dispose();
      return;
    }
    const previous = label === undefined ? [...pkg.versions.keys()] : [];
    for (const key of previous) this.retireVersion(name, pkg, key);
    if (existing && label !== undefined) existing.retired = true;
    pkg.versions.set(next.version, { model: next, users: 0, retired: false });
    if (existing && label !== undefined && existing.users === 0) void this.dispose(existing);
    this.refusals.delete(refusalKey(name, label));
    if (label === undefined) this.refusals.delete(name);
    this.counts.loads++;
    this.log.info(
      { model: name, version: next.version, previous: existing?.model.version ?? null, stages: next.pipeline.active.length, ms: Date.now() - started },
      'model package serving',
    );
    this.changed();
    this.emit('loaded', next);
  }

  /** The load goes on after a time-out (it cannot be interrupted); its result is then discarded. */
  private withinLoadTimeout(loading: Promise<ModelVersion>, dir: string): Promise<ModelVersion> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void loading.then((late) => late.pipeline.dispose(), () => undefined);
        reject(new PackageError(`loading took longer than ${this.loadTimeoutMs} ms (PACKAGE_LOAD_TIMEOUT_MS)`, dir));
      }, this.loadTimeoutMs);
    });
    return Promise.race([loading, timeout]).finally(() => clearTimeout(timer));
  }

  private refuse(name: string, version: string | undefined, reason: string, stillServing?: string): void {
    const refusal: Refusal = { name, ...(version !== undefined ? { version } : {}), reason, at: new Date() };
    this.refusals.set(refusalKey(name, version), refusal);
    this.counts.refusals++;
    this.log.error({ model: name, ...(version !== undefined ? { version } : {}), reason, stillServing: stillServing ?? null }, 'model package refused');
    this.changed();
    this.emit('refused', refusal);
  }

  private retireVersion(name: string, pkg: PackageEntry, label: string, why?: string): void {
    const entry = pkg.versions.get(label);
    if (!entry) return;
    pkg.versions.delete(label);
    this.refusals.delete(refusalKey(name, label));
    if (why) this.log.info({ model: name, version: label, reason: why }, 'model version removed');
    this.changed();
    this.retire(entry);
  }

  private removePackage(name: string): void {
    const known = this.folders.delete(name);
    const pkg = this.entries.get(name);
    this.entries.delete(name);
    let refused = false;
    for (const key of [...this.refusals.keys()]) if (key === name || key.startsWith(`${name}@`)) refused = this.refusals.delete(key);
    this.changed();
    if (!pkg) {
      // A refused package that never loaded is gone too: its refusal no longer stands.
      if (known || refused) this.emit('removed', name);
      return;
    }
    this.counts.removals++;
    this.log.info({ model: name, versions: [...pkg.versions.keys()] }, 'model package removed');
    this.emit('removed', name);
    for (const v of pkg.versions.values()) this.retire(v);
  }

  private retire(entry: VersionEntry): void {
    entry.retired = true;
    if (entry.users === 0) void this.dispose(entry);
  }

  private async dispose(entry: VersionEntry): Promise<void> {
    try {
      await entry.model.pipeline.dispose();
    } catch (e) {
      this.log.warn({ err: e, model: entry.model.name }, 'releasing a retired version failed');
    }
  }
}

function refusalKey(name: string, version: string | undefined): string {
  return version === undefined ? name : `${name}@${version}`;
}

/** Serving settings belong to the package, not to one of its versions. */
async function refuseServingKeys(versionDir: string): Promise<void> {
  const file = join(versionDir, 'config.json');
  const parsed = await readFile(file, 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
  if (parsed === null || typeof parsed !== 'object') return;
  const misplaced = SERVING_KEYS.filter((k) => k in parsed);
  if (misplaced.length) {
    throw new PackageError(`${misplaced.join(', ')} belong in the package root's config.json, not in a version folder`, file);
  }
}
