import type { BatchLimits, OutputTopics, PlanRun } from './plan.js';
import { predictionHeaders } from './failures.js';
import type { InputMessage, OutputMessage, PredictionRecord } from './messages.js';
import type { TextLoop } from '../native/text-loop.js';

/**
 * What the main thread and the pool's workers say to each other, and how a group of input
 * messages crosses the thread boundary. kafkajs hands out each value as a view into the
 * whole fetch response (up to megabytes); cloning such a view would copy the entire
 * response once per message, so the values are copied once into one buffer that is
 * transferred, not cloned. Keys and headers stay on the main thread: the plan reads
 * neither (outputs get their input's key back there).
 *
 * Outputs come back as little as the main thread cannot rebuild: each output's value and the
 * index of its input in the group. Every output of a plan's run goes to the run's predictions
 * or errors topic with the headers `predictionHeaders` gives its input and the plan's tag
 * (plan.ts), and the main thread holds the inputs, so it rebuilds topic, key, position and
 * headers itself. Cloning a small object per output (its headers object with three named
 * strings) cost 5× what this does (`npx tsx scripts/bench/engine-micro.ts`).
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
  /** Every value at `starts[i]`..`starts[i] + lengths[i]` (a length of -1 is a null value): packed one after another into a buffer transferred, or where they are in shared memory. */
  readonly bytes: ArrayBuffer | SharedArrayBuffer;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
}

export type ToWorker =
  | { readonly type: 'init'; readonly plugins: readonly string[]; readonly remoteAllowedHosts?: readonly string[]; readonly cwd: string; readonly textLoop: TextLoop }
  | { readonly type: 'load'; readonly ref: VersionRef }
  | { readonly type: 'unload'; readonly key: string }
  | {
      readonly type: 'run';
      readonly id: number;
      readonly key: string;
      /** The group's inputs; the worker runs them at positions 0..n-1, their indices in the group. */
      readonly messages: PackedMessages;
      readonly topics: OutputTopics;
      readonly limits: BatchLimits;
      readonly wantRecords: boolean;
    };

/** One kind of output of a run (predictions or errors): each one's input, as its index in the group, and its value. */
export interface WireOutputs {
  readonly at: Int32Array;
  readonly values: string[];
}

export interface WireRun {
  readonly predictions: WireOutputs;
  readonly errors: WireOutputs;
  readonly records: PredictionRecord[];
  readonly errorsByCode: Record<string, number>;
  readonly pipelineMs: number;
  readonly stageMs: [string, number][];
  /** The whole run in the worker (decode to outputs), for the pool's cost estimate. */
  readonly runMs: number;
}

/** New pack buffers are sized in these steps (64 KiB), a quarter larger than the group needs. */
const SPARE_ROUNDING = 64 * 1024;

export type FromWorker =
  /** `osThreadId`: the thread's id in the operating system (Linux: /proc/thread-self), for per-thread CPU in `top -H` or /proc. */
  | { readonly type: 'ready'; readonly osThreadId?: number }
  | { readonly type: 'init-failed'; readonly reason: string }
  | { readonly type: 'loaded'; readonly key: string }
  | { readonly type: 'load-failed'; readonly key: string; readonly reason: string }
  /** `spare`: the run's pack buffer, transferred back once nothing in the worker reads it, for the next pack. */
  | { readonly type: 'done'; readonly id: number; readonly run: WireRun; readonly spare?: ArrayBuffer }
  | { readonly type: 'failed'; readonly id: number; readonly reason: string };

/**
 * Packs a group's values into one buffer to transfer: `spare` (a buffer a worker sent back,
 * when it is large enough) or a new one with room to spare, so that it can be used again.
 * A new buffer is memory the process has not touched yet (page faults, and the GC of the
 * buffers let go): packing into new ones cost 8× as much CPU as into one sent back
 * (`npx tsx scripts/bench/engine-micro.ts`).
 */
export function pack(messages: readonly InputMessage[], spare?: (bytes: number) => ArrayBuffer | undefined): { packed: PackedMessages; transfer: ArrayBuffer[] } {
  return packShared(messages) ?? packCopy(messages, spare);
}

/** Where each value lies in the bytes sent: `starts`, `lengths` (-1: null), filled by the caller. */
type Ranges = { readonly starts: Int32Array; readonly lengths: Int32Array };

/** The group's fields other than its values, which both ways of packing send alike. */
function packed(messages: readonly InputMessage[], bytes: ArrayBuffer | SharedArrayBuffer, { starts, lengths }: Ranges): PackedMessages {
  const n = messages.length;
  const topics: string[] = new Array<string>(n);
  const partitions: number[] = new Array<number>(n);
  const offsets: string[] = new Array<string>(n);
  const timestamps: (string | undefined)[] = new Array<string | undefined>(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    topics[i] = m.topic;
    partitions[i] = m.partition;
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
  }
  return { topics, partitions, offsets, timestamps, bytes, starts, lengths };
}

/**
 * The group without a copy, when every value is a view into one SharedArrayBuffer: kafkajs's
 * fetch responses are read into shared memory (kafkajs-frames.ts), and a group is one
 * partition's records from one response. Both threads then read the same bytes; nothing writes
 * them after the response is read. Undefined when the values are elsewhere (librdkafka's
 * client, a small response, tests), which `packCopy` takes.
 */
function packShared(messages: readonly InputMessage[]): { packed: PackedMessages; transfer: ArrayBuffer[] } | undefined {
  const n = messages.length;
  let shared: SharedArrayBuffer | undefined;
  for (let i = 0; i < n; i++) {
    const v = messages[i]!.value;
    if (v === null) continue;
    if (!(v.buffer instanceof SharedArrayBuffer) || (shared !== undefined && v.buffer !== shared)) return undefined;
    shared = v.buffer;
  }
  if (shared === undefined) return undefined;
  const ranges = { starts: new Int32Array(n), lengths: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    const v = messages[i]!.value;
    ranges.starts[i] = v === null ? 0 : v.byteOffset;
    ranges.lengths[i] = v === null ? -1 : v.length;
  }
  return { packed: packed(messages, shared, ranges), transfer: [] };
}

function packCopy(messages: readonly InputMessage[], spare?: (bytes: number) => ArrayBuffer | undefined): { packed: PackedMessages; transfer: ArrayBuffer[] } {
  const n = messages.length;
  const ranges = { starts: new Int32Array(n), lengths: new Int32Array(n) };
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = messages[i]!.value;
    ranges.starts[i] = total;
    ranges.lengths[i] = v === null ? -1 : v.length;
    total += v === null ? 0 : v.length;
  }
  // Not zero-filled: every byte a value's range covers is written below, and nothing reads past them.
  const bytes = spare?.(total) ?? Buffer.allocUnsafeSlow(Math.ceil((total * 1.25) / SPARE_ROUNDING) * SPARE_ROUNDING || SPARE_ROUNDING).buffer;
  const into = new Uint8Array(bytes);
  for (let i = 0; i < n; i++) {
    const v = messages[i]!.value;
    if (v !== null) into.set(v, ranges.starts[i]);
  }
  return { packed: packed(messages, bytes, ranges), transfer: [bytes] };
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

/** The identity positions a worker runs a group of `n` inputs at: each input's index in the group. */
export function groupPositions(n: number): number[] {
  return Array.from({ length: n }, (_, k) => k);
}

/** A run made at `groupPositions`, for the trip back: outputs reduced to their input's index and their value. */
export function toWire(run: PlanRun, wantRecords: boolean, runMs: number): WireRun {
  const compact = (outputs: readonly OutputMessage[]): WireOutputs => {
    const at = new Int32Array(outputs.length);
    const values = new Array<string>(outputs.length);
    for (let j = 0; j < outputs.length; j++) {
      at[j] = outputs[j]!.position;
      values[j] = outputs[j]!.value;
    }
    return { at, values };
  };
  return {
    predictions: compact(run.predictions),
    errors: compact(run.errors),
    records: wantRecords ? run.records : [],
    errorsByCode: run.errorsByCode,
    pipelineMs: run.pipelineMs,
    stageMs: [...run.stageMs],
    runMs,
  };
}

/**
 * A worker's run as the plan would have returned it on this thread: each output's topic, key,
 * position in the slice and headers rebuilt from its input, as the plan builds them.
 */
export function fromWire(w: WireRun, messages: readonly InputMessage[], positions: readonly number[], topics: OutputTopics, tag: string): PlanRun {
  const expand = (o: WireOutputs, topic: string): OutputMessage[] => {
    const out = new Array<OutputMessage>(o.values.length);
    for (let j = 0; j < out.length; j++) {
      const k = o.at[j]!;
      const m = messages[k]!;
      out[j] = { topic, position: positions[k]!, key: m.key, value: o.values[j]!, headers: predictionHeaders(m, tag) };
    }
    return out;
  };
  return {
    predictions: expand(w.predictions, topics.predictions),
    errors: expand(w.errors, topics.errors),
    records: w.records,
    errorsByCode: w.errorsByCode,
    pipelineMs: w.pipelineMs,
    stageMs: new Map(w.stageMs),
  };
}
