import type { BatchLimits, OutputTopics, PlanRun } from './plan.js';
import type { InputMessage, OutputMessage, PredictionRecord } from './messages.js';

/**
 * What the main thread and the pool's workers say to each other, and how a group of input
 * messages crosses the thread boundary. kafkajs hands out each value as a view into the
 * whole fetch response (up to megabytes); cloning such a view would copy the entire
 * response once per message, so the values are copied once into one buffer that is
 * transferred, not cloned. Keys and headers stay on the main thread: the plan reads
 * neither (outputs get their input's key back there).
 */

/** Identifies a loaded version in every thread: its folder and the hash of its files. */
export interface VersionRef {
  readonly key: string;
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly contentHash: string;
}

export function versionKey(v: { readonly dir: string; readonly contentHash: string }): string {
  return `${v.dir}#${v.contentHash}`;
}

export interface PackedMessages {
  readonly topics: string[];
  readonly partitions: number[];
  readonly offsets: string[];
  readonly timestamps: (string | undefined)[];
  /** Every value, one after another; `starts[i]`..`starts[i] + lengths[i]`; a length of -1 is a null value. */
  readonly bytes: ArrayBuffer;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
}

export type ToWorker =
  | { readonly type: 'init'; readonly plugins: readonly string[]; readonly remoteAllowedHosts?: readonly string[]; readonly cwd: string }
  | { readonly type: 'load'; readonly ref: VersionRef }
  | { readonly type: 'unload'; readonly key: string }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly key: string;
      readonly messages: PackedMessages;
      readonly positions: readonly number[];
      readonly topics: OutputTopics;
      readonly limits: BatchLimits;
      readonly wantRecords: boolean;
    };

/** An output without its key (the main thread puts the input's key back). */
export type WireOutput = Omit<OutputMessage, 'key'>;

export interface WireRun {
  readonly predictions: WireOutput[];
  readonly errors: WireOutput[];
  readonly records: PredictionRecord[];
  readonly errorsByCode: Record<string, number>;
  readonly pipelineMs: number;
  readonly stageMs: [string, number][];
  /** The whole run in the worker (decode to outputs), for the pool's cost estimate. */
  readonly runMs: number;
}

export type FromWorker =
  /** `osThreadId`: the thread's id in the operating system (Linux: /proc/thread-self), for per-thread CPU in `top -H` or /proc. */
  | { readonly type: 'ready'; readonly osThreadId?: number }
  | { readonly type: 'init-failed'; readonly reason: string }
  | { readonly type: 'loaded'; readonly key: string }
  | { readonly type: 'load-failed'; readonly key: string; readonly reason: string }
  | { readonly type: 'done'; readonly id: number; readonly run: WireRun }
  | { readonly type: 'failed'; readonly id: number; readonly reason: string };

export function pack(messages: readonly InputMessage[]): { packed: PackedMessages; transfer: ArrayBuffer[] } {
  const n = messages.length;
  const starts = new Int32Array(n);
  const lengths = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = messages[i]!.value;
    starts[i] = total;
    lengths[i] = v === null ? -1 : v.length;
    total += v === null ? 0 : v.length;
  }
  const bytes = new ArrayBuffer(total);
  const into = new Uint8Array(bytes);
  const topics: string[] = new Array<string>(n);
  const partitions: number[] = new Array<number>(n);
  const offsets: string[] = new Array<string>(n);
  const timestamps: (string | undefined)[] = new Array<string | undefined>(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    if (m.value !== null) into.set(m.value, starts[i]);
    topics[i] = m.topic;
    partitions[i] = m.partition;
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
  }
  return { packed: { topics, partitions, offsets, timestamps, bytes, starts, lengths }, transfer: [bytes] };
}

export function unpack(p: PackedMessages): InputMessage[] {
  const out: InputMessage[] = new Array<InputMessage>(p.offsets.length);
  for (let i = 0; i < out.length; i++) {
    const len = p.lengths[i]!;
    out[i] = {
      topic: p.topics[i]!,
      partition: p.partitions[i]!,
      offset: p.offsets[i]!,
      key: null,
      value: len < 0 ? null : Buffer.from(p.bytes, p.starts[i]!, len),
      ...(p.timestamps[i] === undefined ? {} : { timestamp: p.timestamps[i] }),
    };
  }
  return out;
}

export function toWire(run: PlanRun, wantRecords: boolean, runMs: number): WireRun {
  const strip = (o: OutputMessage): WireOutput => ({ topic: o.topic, position: o.position, value: o.value, headers: o.headers });
  return {
    predictions: run.predictions.map(strip),
    errors: run.errors.map(strip),
    records: wantRecords ? run.records : [],
    errorsByCode: run.errorsByCode,
    pipelineMs: run.pipelineMs,
    stageMs: [...run.stageMs],
    runMs,
  };
}

/** A worker's run as the plan would have returned it, keys taken from the inputs by position. */
export function fromWire(w: WireRun, messages: readonly InputMessage[], positions: readonly number[]): PlanRun {
  const keyAt = new Map<number, Buffer | null>();
  for (let k = 0; k < positions.length; k++) keyAt.set(positions[k]!, messages[k]!.key);
  const withKey = (o: WireOutput): OutputMessage => ({ ...o, key: keyAt.get(o.position) ?? null });
  return {
    predictions: w.predictions.map(withKey),
    errors: w.errors.map(withKey),
    records: w.records,
    errorsByCode: w.errorsByCode,
    pipelineMs: w.pipelineMs,
    stageMs: new Map(w.stageMs),
  };
}
