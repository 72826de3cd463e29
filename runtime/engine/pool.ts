import { performance as perfHooks, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { ModelVersion } from '../packages/package.js';
import type { InputMessage } from './messages.js';
import type { BatchLimits, OutputTopics, PlanRun, ServingPlan } from './plan.js';
import { fromWire, pack, versionKey, type FromWorker, type ToWorker, type VersionRef, type WireRun } from './pool-protocol.js';
import type { TextLoop } from '../native/text-loop.js';

export interface PoolOptions {
  /** Worker threads; 0 runs every plan on the main thread. */
  readonly size: number;
  /** Plugin modules, loaded in each worker as in the main thread. */
  readonly plugins: readonly string[];
  readonly remoteAllowedHosts?: readonly string[];
  /** The text token loop the workers' fused stages use (config `textLoop`; default native). */
  readonly textLoop?: TextLoop;
  /** Whether runs send their predictions back as data (a sink or the dashboard reads them). */
  readonly wantRecords: boolean;
  readonly log: Logger;
  /** Versions cheaper than this per record run on the main thread while it has room (default OFFLOAD_MIN_US_PER_RECORD). */
  readonly offloadMinUsPerRecord?: number;
  /** A cheap version's shares go to a worker once the main thread was busy this share of the last window (default CHEAP_HOME_LOAD). */
  readonly cheapHomeLoad?: number;
  /**
   * The main thread runs a share itself when every worker holding the version already has
   * one running and one waiting, and the main thread's event loop was busy less than this
   * share of the last window (default MAIN_SHARE; 0: never).
   */
  readonly mainShare?: number;
}

/**
 * A version whose runs cost less than this per record runs on the main thread: handing a
 * batch to a worker (copying the values over, cloning the outputs back) costs a few µs per
 * record, more than a small tabular model's whole run. Measured by `npm run bench`: the iris
 * tree (a few µs per record) lost a third of its throughput on the pool; the text chain
 * (~50 µs) gained.
 */
export const OFFLOAD_MIN_US_PER_RECORD = 15;

/**
 * ...while the main thread has room. Once its event loop was busy this share of the last
 * window, the main thread is what bounds a cheap model's throughput (it also runs Kafka's
 * I/O, decoding of fetches and encoding of produce requests), and the hand-off costs less than
 * it frees: a cheap version's share then goes to a worker (CHEAP_BEHIND). Measured on
 * 2026-12-06 (docs/performance.md, "Cheap models on a busy main thread"): in one A/B of three
 * the iris tree on the pool ran 72,000–93,000 records/s against 60,000–74,000 on the main
 * thread, its main thread at 7 against 10 µs per record; the other two were within their
 * spread, the best runs the pool's. At low load nothing changes: the share stays here, one
 * hand-off fewer.
 */
export const CHEAP_HOME_LOAD = 0.5;
/**
 * Shares a worker may have in hand before a cheap version's next one stays here after all. A
 * cheap share is quick on the worker, and the main thread is the one that is short: a
 * profiled iris row with the work-sharing bound (2) still ran a third of the tree's shares on
 * the main thread while the worker idled three quarters of the time.
 */
const CHEAP_BEHIND = 8;

/**
 * A pool thread's young generation. V8 sizes it from the machine's memory (32 MiB of new
 * space on a 24 GiB machine), but a worker's garbage is one slice's decoded records, frames
 * and outputs, which die with the slice. Bench variants with a temporary override of this cap
 * measured 24 MiB at the same throughput and ~25 MiB less peak RSS, 12 MiB ~5% slower
 * (docs/performance.md, Memory).
 */
const WORKER_YOUNG_GENERATION_MB = 24;

/**
 * Work sharing: with one worker on two cores, the worker thread is the busiest thread on a
 * text model (81% of its window against the main thread's 60% in a profiled bench row), and
 * a share handed to it while it already has one running and one waiting only waits there.
 * The main thread takes such a share itself while its event loop has room — it is then not
 * copied over or cloned back either. Measured with `npm run bench -- --rows plain,spark
 * --variant MLSTREAM_MAIN_SHARE=0 …` and a temporary switch (docs/performance.md, Work
 * sharing): 0.75 beat 0 in each of five comparisons (+3 to +19%), and 0.6 and 0.9 were no
 * better.
 */
export const MAIN_SHARE = 0.75;
/** Shares a worker has in hand (one running, one waiting) before the main thread takes the next: 2 beat 3 in the same bench. */
const SHARE_BEHIND = 2;
/** How long a window the main thread's load is measured over. */
const LOAD_WINDOW_MS = 100;

/** Pack buffers kept for reuse once workers send them back, and the largest kept (a bigger one is left to the GC). */
const MAX_SPARES = 4;
const MAX_SPARE_BYTES = 8 * 1024 * 1024;

/** Respawns of crashed workers before the pool gives up on them (plans then run on the main thread). */
const MAX_RESPAWNS = 5;

interface Pending {
  readonly resolve: (run: WireRun) => void;
  readonly reject: (e: Error) => void;
}

class PoolWorker {
  readonly thread: Worker;
  readonly loaded = new Set<string>();
  readonly pending = new Map<number, Pending>();
  ready = false;

  /** Why the thread ended, when an uncaught throw ended it. */
  error: Error | undefined;

  constructor(url: URL, init: ToWorker, onMessage: (w: PoolWorker, m: FromWorker) => void, onExit: (w: PoolWorker, code: number) => void) {
    // A .ts entry (the runtime run through tsx, as in tests): tsx's loader hooks do not reach
    // worker threads, so the thread registers them itself before importing its entry.
    const limits = { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } };
    const entry = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
    this.thread = url.pathname.endsWith('.ts') ? new Worker(entry, { eval: true, name: 'mlstream-pool', ...limits }) : new Worker(url, { name: 'mlstream-pool', ...limits });
    this.thread.on('message', (m: FromWorker) => onMessage(this, m));
    // An uncaught throw in the worker ends it; 'exit' follows and fails its runs over to the main thread.
    this.thread.on('error', (e) => (this.error = e));
    this.thread.on('exit', (code) => onExit(this, code));
    this.thread.postMessage(init);
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.thread.postMessage(m, transfer);
  }
}

/**
 * Runs serving plans on worker threads while the main thread does Kafka I/O, ordering and
 * commits. Every worker loads each version the store loaded (same folder, same content
 * hash) and is sent a version's share of a slice once it has it; until then, and whenever
 * a worker fails or exits, the plan runs on the main thread instead — a slower answer, never
 * a lost or different one: a plan's run is a pure function of its inputs.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly versions = new Map<string, VersionRef>();
  /** Per version: its runs' cost per record (µs, a moving average) wherever they ran. */
  private readonly cost = new Map<string, number>();
  private nextId = 1;
  private respawns = 0;
  /** Pack buffers the workers sent back (pool-protocol.ts `pack`). */
  private readonly spares: ArrayBuffer[] = [];
  /**
   * Version shares run by a worker; on the main thread because no worker could (none had the
   * version yet, one failed, or the version is cheap); and on the main thread while the
   * workers were busy (work sharing).
   */
  readonly runs = { workers: 0, main: 0, shared: 0 };
  private loadMark: EventLoopUtilization = perfHooks.eventLoopUtilization();
  private loadMarkAt = performance.now();
  private lastLoad = 0;
  private closed = false;
  private readonly url: URL;
  private readonly init: ToWorker;

  constructor(private readonly options: PoolOptions) {
    // Compiled, this module is pool.js beside pool-worker.js; run through tsx, both are .ts.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    this.url = new URL(`./pool-worker${ext}`, import.meta.url);
    this.init = { type: 'init', plugins: options.plugins, cwd: process.cwd(), textLoop: options.textLoop ?? 'native', ...(options.remoteAllowedHosts ? { remoteAllowedHosts: options.remoteAllowedHosts } : {}) };
    for (let i = 0; i < options.size; i++) this.spawn();
  }

  get size(): number {
    return this.workers.length;
  }

  /** Loads in every worker the versions loaded now, and unloads the ones gone. */
  sync(loaded: readonly ModelVersion[]): void {
    const next = new Map(loaded.map((m) => [versionKey(m), { key: versionKey(m), dir: m.dir, name: m.name, version: m.version, contentHash: m.contentHash }] as const));
    for (const key of this.versions.keys()) {
      if (next.has(key)) continue;
      this.versions.delete(key);
      this.cost.delete(key);
      for (const w of this.workers) {
        w.loaded.delete(key);
        w.post({ type: 'unload', key });
      }
    }
    for (const [key, ref] of next) {
      if (this.versions.has(key)) continue;
      this.versions.set(key, ref);
      for (const w of this.workers) if (w.ready) w.post({ type: 'load', ref });
    }
  }

  /**
   * One version's share of a slice: on the least busy worker that has the version; here when
   * none has it or the version is cheap; and here too when that worker is busy and this
   * thread has room (work sharing).
   */
  run(plan: ServingPlan, messages: readonly InputMessage[], positions: readonly number[], topics: OutputTopics, limits: BatchLimits): Promise<PlanRun> {
    const key = versionKey(plan.model);
    let best: PoolWorker | undefined;
    for (const w of this.workers) {
      if (w.loaded.has(key) && (!best || w.pending.size < best.pending.size)) best = w;
    }
    const usPerRecord = this.cost.get(key);
    // Not measured yet: the first share runs here, which measures it.
    const small = usPerRecord !== undefined && usPerRecord < (this.options.offloadMinUsPerRecord ?? OFFLOAD_MIN_US_PER_RECORD);
    const cheap = usPerRecord === undefined || (small && (best === undefined || best.pending.size >= CHEAP_BEHIND || this.mainLoad() < (this.options.cheapHomeLoad ?? CHEAP_HOME_LOAD)));
    // Work sharing is for a worker that is the busy one; a cheap version's worker is not.
    const shared = best !== undefined && !small && !cheap && best.pending.size >= SHARE_BEHIND && this.mainHasRoom();
    if (!best || cheap || shared) {
      if (shared) this.runs.shared++;
      else this.runs.main++;
      const started = performance.now();
      return plan.run(messages, positions, topics, limits, this.options.wantRecords).then((run) => {
        this.observe(key, performance.now() - started, messages.length);
        return run;
      });
    }
    this.runs.workers++;
    const worker = best;
    const id = this.nextId++;
    const { packed, transfer } = pack(messages, (bytes) => this.takeSpare(bytes));
    const remote = new Promise<WireRun>((resolve, reject) => worker.pending.set(id, { resolve, reject }));
    worker.post({ type: 'run', id, key, messages: packed, topics, limits, wantRecords: this.options.wantRecords }, transfer);
    return remote.then(
      (wire) => {
        this.observe(key, wire.runMs, messages.length);
        return fromWire(wire, messages, positions, topics, plan.tag);
      },
      (e: Error) => {
        this.options.log.warn({ version: plan.tag, reason: e.message }, 'a worker could not run this batch; running it on the main thread');
        this.runs.workers--;
        this.runs.main++;
        return plan.run(messages, positions, topics, limits, this.options.wantRecords);
      },
    );
  }

  /** Resolves once every worker has loaded the version (false: one could not, or there are none). */
  whenLoaded(model: ModelVersion, timeoutMs = 60_000): Promise<boolean> {
    const key = versionKey(model);
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.workers.length > 0 && this.workers.every((w) => w.loaded.has(key))) return resolve(true);
        if (this.closed || this.workers.length === 0 || Date.now() > deadline) return resolve(false);
        setTimeout(check, 20);
      };
      check();
    });
  }

  /** Whether the main thread's event loop was busy less than `mainShare` of the last window. */
  private mainHasRoom(): boolean {
    const limit = this.options.mainShare ?? MAIN_SHARE;
    return limit > 0 && this.mainLoad() < limit;
  }

  /** The share of the last window the main thread's event loop was busy (measured at most once a window). */
  private mainLoad(): number {
    const now = performance.now();
    if (now - this.loadMarkAt >= LOAD_WINDOW_MS) {
      const mark = perfHooks.eventLoopUtilization();
      this.lastLoad = perfHooks.eventLoopUtilization(mark, this.loadMark).utilization;
      this.loadMark = mark;
      this.loadMarkAt = now;
    }
    return this.lastLoad;
  }

  private observe(key: string, ms: number, records: number): void {
    if (records === 0) return;
    const us = (ms * 1000) / records;
    const before = this.cost.get(key);
    this.cost.set(key, before === undefined ? us : before * 0.8 + us * 0.2);
  }

  async close(): Promise<void> {
    if (!this.closed && this.options.size > 0) this.options.log.info({ workers: this.options.size, runs: this.runs }, 'worker pool stopped');
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
    this.workers.length = 0;
  }

  private spawn(): void {
    this.workers.push(new PoolWorker(this.url, this.init, (w, m) => this.onMessage(w, m), (w, code) => this.onExit(w, code)));
  }

  private onMessage(w: PoolWorker, m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        w.ready = true;
        this.options.log.info({ worker: this.workers.indexOf(w) + 1, osThreadId: m.osThreadId }, 'pool worker ready');
        for (const ref of this.versions.values()) w.post({ type: 'load', ref });
        return;
      case 'init-failed':
        this.options.log.error({ reason: m.reason }, 'a pool worker could not start; plans run on the main thread');
        void w.thread.terminate();
        return;
      case 'loaded': {
        const ref = this.versions.get(m.key);
        if (!ref) return;
        w.loaded.add(m.key);
        this.options.log.info({ model: ref.name, version: ref.version }, 'pool worker loaded a package version');
        return;
      }
      case 'load-failed':
        this.options.log.warn({ version: m.key, reason: m.reason }, 'a pool worker could not load this version; the main thread runs it');
        return;
      case 'done':
      case 'failed': {
        const p = w.pending.get(m.id);
        if (!p) return;
        w.pending.delete(m.id);
        if (m.type === 'done') {
          if (m.spare) this.keepSpare(m.spare);
          p.resolve(m.run);
        } else p.reject(new Error(m.reason));
      }
    }
  }

  /** Pack buffers waiting for reuse. */
  get sparesKept(): number {
    return this.spares.length;
  }

  private takeSpare(bytes: number): ArrayBuffer | undefined {
    const at = this.spares.findIndex((b) => b.byteLength >= bytes);
    return at < 0 ? undefined : this.spares.splice(at, 1)[0];
  }

  private keepSpare(b: ArrayBuffer): void {
    if (b.byteLength > MAX_SPARE_BYTES) return;
    this.spares.push(b);
    if (this.spares.length > MAX_SPARES) {
      // The smallest goes: it fits the fewest groups.
      this.spares.sort((x, y) => y.byteLength - x.byteLength);
      this.spares.pop();
    }
  }

  private onExit(w: PoolWorker, code: number): void {
    const at = this.workers.indexOf(w);
    if (at >= 0) this.workers.splice(at, 1);
    for (const p of w.pending.values()) p.reject(new Error(`the worker exited (code ${code})`));
    w.pending.clear();
    if (this.closed) return;
    if (this.respawns >= MAX_RESPAWNS) {
      this.options.log.error({ code, reason: w.error?.message, respawns: this.respawns }, 'a pool worker exited; not starting another (plans run on the main thread)');
      return;
    }
    this.respawns++;
    this.options.log.warn({ code, reason: w.error?.message, respawns: this.respawns }, 'a pool worker exited; starting another');
    this.spawn();
  }
}
