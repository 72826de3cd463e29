import { kafkajsInternals } from './kafkajs-internals.js';

/**
 * Memory for kafkajs's fetch responses that the runtime recycles itself: a response's buffer
 * is read into again once every batch made from it is done, instead of waiting for V8 to
 * collect it.
 *
 * Why: a fetch response (a few MiB when partitions are behind) lives while its partitions'
 * slices go through the engine, out to Kafka and into a commit — long enough for its buffer
 * object to reach V8's old generation, where it is freed only at the next mark-compact. On
 * the bench's spam-text row the main thread held 33–47 MiB of array buffers between those
 * (a probe of `process.memoryUsage()` every 50 ms, docs/performance.md, Memory), most of the
 * gap to the peak-RSS target. Giving each response's pages back as it finished (a resizable
 * buffer shrunk to nothing) took that off but cost the main thread 4–6 µs more per 2.6 kB
 * record: fresh pages for every response, and a copy of each value for the worker, which
 * cannot read a resizable buffer in place. A recycled shared buffer is memory in use, read
 * by the worker where it is.
 *
 * How: `FrameReader` reads a large response into shared memory from `responseBuffer` (shared,
 * so the worker pool reads its values without a copy: pool-protocol.ts, `pack`). kafkajs
 * decodes the response into one batch per partition, with every record's key, value and
 * headers views into that memory; `installFetchLeases` has kafkajs's consumer group count,
 * for each response, the batches of its fetch whose records view it (`leaseBatches`). The
 * runner calls a batch's `dispose` once nothing reads its records any more (its slices are
 * committed or given up, the engine's work on them and their deliveries settled; runner.ts).
 * When the last batch viewing a response is disposed, its memory goes to a short free list
 * that the next responses are read into.
 *
 * What it rests on: a response is only recycled after being leased by the one fetch that
 * decoded it, by every batch whose records view it, and released by each of them; a batch
 * kafkajs decodes but never hands out (filtered, the consumer stopping) keeps its lease, and
 * that response is left to the garbage collector as before. Nothing may keep a view of a
 * record past its batch's dispose (RunnerHooks says so to hooks): it would read a later
 * response's bytes.
 */

/** Responses of at least this many bytes are read into recycled shared memory; smaller ones are left to the GC. */
export const RECYCLED_FRAME_BYTES = 64 * 1024;
/** New response memory is made in steps of this size, so that one buffer fits the next responses of about its size. */
const STEP_BYTES = 256 * 1024;
/** Buffers kept for reuse, and the most bytes they may hold together: a fetch's worth (FETCH_MAX_BYTES is 10 MiB, a partition's 1 MiB). */
const MAX_FREE = 4;
const MAX_FREE_BYTES = 16 * 1024 * 1024;

interface Lease {
  /** Batches still reading the response. */
  batches: number;
}

/** Memory from `responseBuffer` that no free list holds: a response is read into it, or it waits for its batches. */
const made = new WeakSet<SharedArrayBuffer>();
/** Response memory → its lease, from `leaseBatches` until the last batch is released. */
const leases = new WeakMap<SharedArrayBuffer, Lease>();
/** A batch object → the responses it leases. */
const held = new WeakMap<object, SharedArrayBuffer[]>();
/** Released memory, read into again by the next response that fits. */
const free: SharedArrayBuffer[] = [];
let freeBytes = 0;

/** Counts for tests and the bench: responses read into new memory and into recycled memory, leased by a fetch, and released by their batches. */
export const fetchMemory = { made: 0, reused: 0, leased: 0, released: 0 };

/** A buffer for one fetch response of `size` bytes; its bytes are not cleared (the reader writes all of them before anyone reads). */
export function responseBuffer(size: number): Buffer {
  if (size < RECYCLED_FRAME_BYTES) return Buffer.allocUnsafe(size);
  // The smallest free buffer that fits.
  let best = -1;
  for (let i = 0; i < free.length; i++) if (free[i]!.byteLength >= size && (best < 0 || free[i]!.byteLength < free[best]!.byteLength)) best = i;
  let memory: SharedArrayBuffer;
  if (best >= 0) {
    memory = free.splice(best, 1)[0]!;
    freeBytes -= memory.byteLength;
    fetchMemory.reused++;
  } else {
    memory = new SharedArrayBuffer(Math.ceil(size / STEP_BYTES) * STEP_BYTES);
    fetchMemory.made++;
  }
  made.add(memory);
  return Buffer.from(memory, 0, size);
}

interface RecordViews {
  readonly key?: Buffer | null;
  readonly value?: Buffer | null;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** Adds the response memory `view` lies in to `into`, if `responseBuffer` gave it out. */
function noteView(view: unknown, into: SharedArrayBuffer[]): void {
  if (!(view instanceof Uint8Array)) return;
  const memory = view.buffer;
  if (memory instanceof SharedArrayBuffer && made.has(memory) && !into.includes(memory)) into.push(memory);
}

/**
 * One fetch's batches: each batch with records takes a lease on every response its records'
 * keys, values or headers view. Called once per fetch, before any of its batches is handed out.
 * It looks at every record, not the first of each batch: a partition's records may lie partly
 * in the response and partly in a decompressed buffer, and a record with a null key and value
 * may view the response only through a header. That is a few property reads per record, once.
 */
export function leaseBatches(batches: ReadonlyArray<{ readonly messages: readonly RecordViews[] }>): void {
  for (const batch of batches) {
    const messages = batch.messages;
    if (messages.length === 0 || held.has(batch)) continue;
    const views: SharedArrayBuffer[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      noteView(m.value, views);
      noteView(m.key, views);
      const headers = m.headers;
      if (headers) {
        for (const name in headers) {
          const h = headers[name];
          if (Array.isArray(h)) for (const one of h) noteView(one, views);
          else noteView(h, views);
        }
      }
    }
    if (views.length === 0) continue;
    held.set(batch, views);
    for (const memory of views) {
      let lease = leases.get(memory);
      if (!lease) {
        leases.set(memory, (lease = { batches: 0 }));
        fetchMemory.leased++;
      }
      lease.batches++;
    }
  }
}

/** Nothing reads `batch`'s records any more: the responses no other batch reads are recycled. Once per batch; later calls do nothing. */
export function releaseBatch(batch: object): void {
  const views = held.get(batch);
  if (!views) return;
  held.delete(batch);
  for (const memory of views) {
    const lease = leases.get(memory);
    if (!lease || --lease.batches > 0) continue;
    leases.delete(memory);
    made.delete(memory);
    fetchMemory.released++;
    if (free.length < MAX_FREE && freeBytes + memory.byteLength <= MAX_FREE_BYTES) {
      free.push(memory);
      freeBytes += memory.byteLength;
    }
  }
}

/** The kafkajs 2.2 module whose fetch decodes a response into batches. */
const KAFKAJS_CONSUMER_GROUP = 'kafkajs/src/consumer/consumerGroup.js';
const LEASES = Symbol.for('mlstream.kafkajs-fetch-leases');

let installed: boolean | undefined;

/**
 * Has kafkajs's consumer group lease each fetch's batches (`leaseBatches`) as the fetch returns
 * them, before its runner hands any out. Once per process; false, leaving kafkajs as it is,
 * when kafkajs is not a 2.2 release laid out as expected (responses are then never released:
 * the garbage collector frees them, as before).
 */
export function installFetchLeases(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  type ConsumerGroup = { prototype: { fetch?: (...args: unknown[]) => Promise<unknown>; [LEASES]?: true } };
  const internals = kafkajsInternals((require) => require(KAFKAJS_CONSUMER_GROUP) as ConsumerGroup);
  if (!internals) return false;
  const proto = internals.found.prototype;
  const original = proto.fetch;
  if (typeof original !== 'function' || !String(original).includes('new Batch(')) return false;
  if (!proto[LEASES]) {
    proto.fetch = async function fetch(this: unknown, ...args: unknown[]): Promise<unknown> {
      const batches = await original.apply(this, args);
      if (Array.isArray(batches)) leaseBatches(batches as Array<{ messages: RecordViews[] }>);
      return batches;
    };
    proto[LEASES] = true;
  }
  installed = true;
  return true;
}
