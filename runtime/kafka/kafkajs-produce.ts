import { dirname, join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { crc32c } from './crc32c.js';
import { kafkajsInternals } from './kafkajs-internals.js';
import { measureRecord, rewindTape, writeRecord } from './kafkajs-records.js';

/**
 * kafkajs 2.2's produce path, made cheaper where it costs the runtime's main thread most
 * (a profile of the bench's spam-text row: about a sixth of that thread's busy time):
 *
 * - **The request in one buffer.** kafkajs spreads every message into a new object, encodes
 *   each record into its own buffer, then copies the bytes into a record batch, the batch into
 *   a partition's encoder, that into a topic's and that into the request's, each encoder
 *   growing by doubling into fresh zero-filled memory. `encodeProduceRequest` sizes the whole
 *   request first and writes it once. The bytes are kafkajs's own (the produce request v3
 *   body, which v4–v7 reuse, and Kafka's record batch v2), checked against kafkajs's encoder
 *   over random requests (test/unit/kafka-produce.test.ts). A request it does not cover —
 *   compression, or a record `measureRecord` leaves to kafkajs — is encoded by kafkajs.
 * - **The checksum** eight bytes at a time (crc32c.ts) instead of one.
 * - **Grouping by partition in linear time.** kafkajs's `groupMessagesPerPartition` copies a
 *   partition's list once per message (`[...current, message]`), quadratic in a send's size.
 *
 * Each is put in place through Node's module cache, as kafkajs-records.ts does. The grouping
 * is bound when kafkajs's producer modules load, which a static `import 'kafkajs'` has done
 * before any runtime code runs; so those four modules (the package's entry class, the
 * producer, its message producer and `sendMessages`) are loaded afresh around the new grouping,
 * and `installProducePath` returns the fresh `Kafka` class. Everything else they require is
 * the cached, shared module.
 */

/** What kafkajs's produce request v3 module receives. */
export interface ProduceArgs {
  readonly acks?: unknown;
  readonly timeout?: unknown;
  readonly transactionalId?: unknown;
  readonly producerId?: unknown;
  readonly producerEpoch?: unknown;
  readonly compression?: unknown;
  readonly topicData: ReadonlyArray<{
    readonly topic: unknown;
    readonly partitions: ReadonlyArray<{ readonly partition: unknown; readonly firstSequence?: unknown; readonly messages: ReadonlyArray<ProduceMessage> }>;
  }>;
}

interface ProduceMessage {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: unknown;
  readonly timestamp?: unknown;
}

/** kafkajs's 64-bit integer (utils/long.js), which its encoder writes every int64 through. */
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
export interface LongClass {
  fromValue(v: unknown): LongLike;
}

const MAGIC = 2;
const TRANSACTIONAL = 16;
/** A record set's bytes before its records: size, first offset, batch length, leader epoch, magic, CRC, attributes, last offset delta, two timestamps, producer id and epoch, first sequence, record count. */
const RECORD_SET_HEAD = 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

/** The timestamps kafkajs's request puts on a batch: the messages' own, sorted as strings (its `.sort()`), or the time of encoding. */
function batchTimestamps(messages: ReadonlyArray<ProduceMessage>, now: number): [unknown, unknown] {
  let any = false;
  for (let i = 0; i < messages.length; i++) {
    if (messages[i]!.timestamp != null) {
      any = true;
      break;
    }
  }
  if (!any) return [now, now];
  const stamps = messages
    .map((m) => m.timestamp)
    .filter((t) => t != null)
    .sort();
  return [stamps[0], stamps[stamps.length - 1]];
}

function writeInt64(out: Buffer, at: number, long: LongLike): number {
  out.writeInt32BE(long.getHighBits(), at);
  out.writeInt32BE(long.getLowBits(), at + 4);
  return at + 8;
}

/**
 * The body of a produce request (v3 layout; what kafkajs's `encode` returns for v3–v7) in one
 * buffer, or undefined where kafkajs should encode it (compression, a record it would encode
 * differently or refuse, a field of a type it coerces). `now` stands for kafkajs's `Date.now()`
 * at encoding, the timestamp of messages without one.
 */
export function encodeProduceRequest(args: ProduceArgs, now: number, Long: LongClass): Buffer | undefined {
  const { acks, timeout, transactionalId = null, producerEpoch = 0, compression = 0, topicData } = args;
  if (compression !== 0 || !Array.isArray(topicData)) return undefined;
  if (transactionalId !== null && typeof transactionalId !== 'string') return undefined;
  const producerId = args.producerId === undefined ? Long.fromValue(-1) : Long.fromValue(args.producerId);
  rewindTape();
  const txLength = transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8');
  let size = 2 + txLength + 2 + 4 + 4;
  // Per partition, in order: its records' bytes and the two timestamps kafkajs writes (the first is also the deltas' base).
  const batches: Array<{ records: number; first: unknown; max: unknown }> = [];
  for (const { topic, partitions } of topicData) {
    if (typeof topic !== 'string' || !Array.isArray(partitions)) return undefined;
    size += 2 + Buffer.byteLength(topic, 'utf8') + 4;
    for (const { messages } of partitions) {
      if (!Array.isArray(messages)) return undefined;
      const [first, max] = batchTimestamps(messages, now);
      let records = 0;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const delta = ((m.timestamp || now) as number) - (first as number);
        const n = measureRecord(m.key, m.value, m.headers, i, delta);
        if (n < 0) return undefined;
        records += n;
      }
      batches.push({ records, first, max });
      size += 4 + RECORD_SET_HEAD + records;
    }
  }

  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt16BE(transactionalId === null ? -1 : txLength, 0);
  if (transactionalId !== null) at += out.write(transactionalId, at, txLength, 'utf8');
  at = out.writeInt16BE(acks as number, at);
  at = out.writeInt32BE(timeout as number, at);
  at = out.writeInt32BE(topicData.length, at);
  let b = 0;
  for (const { topic, partitions } of topicData) {
    const topicLength = Buffer.byteLength(topic as string, 'utf8');
    at = out.writeInt16BE(topicLength, at);
    at += out.write(topic as string, at, topicLength, 'utf8');
    at = out.writeInt32BE(partitions.length, at);
    for (const { partition, firstSequence = 0, messages } of partitions) {
      const { records, first, max } = batches[b++]!;
      const batchLength = RECORD_SET_HEAD - 16 + records;
      at = out.writeInt32BE(partition as number, at);
      at = out.writeInt32BE(12 + batchLength, at);
      at = out.writeInt32BE(0, at); // first offset (int64 0)
      at = out.writeInt32BE(0, at);
      at = out.writeInt32BE(batchLength, at);
      at = out.writeInt32BE(0, at); // partition leader epoch
      at = out.writeInt8(MAGIC, at);
      const crcAt = at;
      at += 4;
      const bodyAt = at;
      at = out.writeInt16BE(transactionalId ? TRANSACTIONAL : 0, at);
      at = out.writeInt32BE(messages.length - 1, at);
      at = writeInt64(out, at, Long.fromValue(first));
      at = writeInt64(out, at, Long.fromValue(max));
      at = writeInt64(out, at, producerId);
      at = out.writeInt16BE(producerEpoch as number, at);
      at = out.writeInt32BE(firstSequence as number, at);
      at = out.writeInt32BE(messages.length, at);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        at = writeRecord(out, at, m.key, m.value, m.headers, i, ((m.timestamp || now) as number) - (first as number));
      }
      out.writeUInt32BE(crc32c(out, bodyAt, at), crcAt);
    }
  }
  // Every byte was written, so the unfilled buffer leaks nothing; were the sizes ever to disagree, kafkajs encodes the request.
  return at === size ? out : undefined;
}

/** Groups a send's messages by the partition the partitioner gives each, in order: kafkajs's `groupMessagesPerPartition` in linear time. */
export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: unknown;
  partitionMetadata: readonly unknown[];
  messages: readonly unknown[];
  partitioner: (a: { topic: unknown; partitionMetadata: readonly unknown[]; message: unknown }) => number;
}): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const FAST = Symbol.for('mlstream.kafkajs-produce');
type RequestFactory = ((args: ProduceArgs) => { encode: () => Promise<unknown> }) & { [FAST]?: true };
interface EncoderClass {
  new (initialSize?: number): { buf: Buffer; offset: number };
}

let installed: { Kafka: typeof Kafka } | false | undefined;

/**
 * Puts the one-buffer produce request, the faster checksum and the linear grouping in front of
 * kafkajs's own for this process (once; later calls return the first answer): the `Kafka`
 * class whose producers use them, or undefined, leaving kafkajs as it is, when kafkajs is not
 * a 2.2 release laid out as expected. Call it after `installRecordEncoder`, which drops the
 * produce request modules from the cache.
 */
export function installProducePath(): typeof Kafka | undefined {
  if (installed !== undefined) return installed ? installed.Kafka : undefined;
  installed = false;
  const internals = kafkajsInternals((require) => {
    const src = dirname(require.resolve('kafkajs/src/index.js'));
    const paths: Record<'v3' | 'encoder' | 'long' | 'group' | 'send' | 'messageProducer' | 'producer' | 'index', string> = {
      v3: join(src, 'protocol/requests/produce/v3/request.js'),
      encoder: join(src, 'protocol/encoder.js'),
      long: join(src, 'utils/long.js'),
      group: join(src, 'producer/groupMessagesPerPartition.js'),
      send: join(src, 'producer/sendMessages.js'),
      messageProducer: join(src, 'producer/messageProducer.js'),
      producer: join(src, 'producer/index.js'),
      index: join(src, 'index.js'),
    };
    for (const path of Object.values(paths)) require.resolve(path);
    return paths;
  });
  if (!internals) return undefined;
  const { require, found: paths } = internals;
  const original = require(paths.v3) as RequestFactory;
  const Encoder = require(paths.encoder) as EncoderClass;
  const Long = require(paths.long) as LongClass;
  const cachedV3 = require.cache[paths.v3];
  require(paths.group);
  const cachedGroup = require.cache[paths.group];
  if (typeof original !== 'function' || typeof Encoder !== 'function' || typeof Long?.fromValue !== 'function' || !cachedV3 || !cachedGroup) return undefined;
  if (!original[FAST]) {
    const fast: RequestFactory = Object.assign(
      (args: ProduceArgs) => {
        const request = original(args);
        const encode = request.encode;
        return Object.assign(request, {
          encode: async () => {
            const bytes = encodeProduceRequest(args, Date.now(), Long);
            if (!bytes) return encode();
            const encoder = new Encoder(0);
            encoder.buf = bytes;
            encoder.offset = bytes.length;
            return encoder;
          },
        });
      },
      { [FAST]: true as const },
    );
    cachedV3.exports = fast;
    // v4–v7 hold v3 (each the one below); kafkajs requires its version's module at every produce.
    for (const v of [4, 5, 6, 7]) delete require.cache[join(dirname(dirname(paths.v3)), `v${v}`, 'request.js')];
  }
  cachedGroup.exports = groupMessagesPerPartition;
  for (const key of ['send', 'messageProducer', 'producer', 'index'] as const) delete require.cache[paths[key]];
  const fresh = require(paths.index) as typeof Kafka;
  if (typeof fresh !== 'function') return undefined;
  installed = { Kafka: fresh };
  return fresh;
}
