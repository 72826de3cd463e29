import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Kafka } from 'kafkajs';
import { crc32c } from '../../runtime/kafka/crc32c.js';
import { encodeProduceRequest, groupMessagesPerPartition, installProducePath, type LongClass, type ProduceArgs } from '../../runtime/kafka/kafkajs-produce.js';
import { installRecordEncoder } from '../../runtime/kafka/kafkajs-records.js';
import { startLocalBroker } from '../../scripts/broker/index.js';

const require = createRequire(import.meta.url);
const SRC = 'kafkajs/src/';
// kafkajs's own parts, taken before anything in this process installs mlstream's.
const kafkajsCrc = require(`${SRC}protocol/recordBatch/crc32C/index.js`) as (b: Buffer) => number;
const kafkajsRequestV3 = require(`${SRC}protocol/requests/produce/v3/request.js`) as (a: ProduceArgs) => { encode(): Promise<{ buffer: Buffer }> };
const kafkajsGroup = require(`${SRC}producer/groupMessagesPerPartition.js`) as typeof groupMessagesPerPartition;
const Long = require(`${SRC}utils/long.js`) as LongClass;

test('crc32c: the check value of CRC-32C, and kafkajs\'s checksum over random bytes and ranges', () => {
  // The catalogued check value of CRC-32C (iSCSI): the nine ASCII digits "123456789".
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(20), fc.nat(20), (bytes, a, b) => {
      const buf = Buffer.from(bytes);
      assert.equal(crc32c(buf), kafkajsCrc(buf));
      const start = Math.min(a, buf.length);
      const end = Math.max(start, buf.length - b);
      assert.equal(crc32c(buf, start, end), kafkajsCrc(buf.subarray(start, end)));
    }),
    { numRuns: 1000 },
  );
});

const NOW = 9_999_999_999_500;
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 20 }));
const blob = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const message = fc.record(
  {
    key: fc.oneof(text, blob, fc.constant(null)),
    value: fc.oneof(text, blob, fc.constant(null), fc.string({ minLength: 100, maxLength: 3000 })),
    headers: fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(text, blob, fc.array(text, { maxLength: 3 })), { maxKeys: 4 }),
    // kafkajs sorts a batch's timestamps as strings and subtracts the first from each. NOW sits
    // just below a power of ten, so timestamps around it have 13 or 14 digits and their string
    // order differs from their numeric one; numeric strings are kafkajs's too.
    timestamp: fc.oneof(fc.integer({ min: NOW - 1_000_000, max: NOW + 1_000_000 }), fc.integer({ min: NOW - 1_000_000, max: NOW + 1_000_000 }).map(String)),
  },
  { requiredKeys: ['value'] },
);
const request = fc.record({
  acks: fc.constantFrom(-1, 0, 1),
  timeout: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  transactionalId: fc.oneof(fc.constant(undefined), fc.constant(null), text),
  producerId: fc.oneof(fc.constant(undefined), fc.integer({ min: -1, max: 2 ** 40 })),
  producerEpoch: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 32767 })),
  topicData: fc.array(
    fc.record({
      topic: fc.string({ minLength: 1, maxLength: 20 }),
      partitions: fc.array(
        fc.record({ partition: fc.nat(100), firstSequence: fc.oneof(fc.constant(undefined), fc.nat(1000)), messages: fc.array(message, { maxLength: 12 }) }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

/** kafkajs's encoding of a request, with `Date.now()` held at `now` (its timestamp for messages without one). */
async function kafkajsBytes(args: ProduceArgs, now: number): Promise<Buffer> {
  const realNow = Date.now;
  Date.now = () => now;
  try {
    return Buffer.from((await kafkajsRequestV3(args).encode()).buffer);
  } finally {
    Date.now = realNow;
  }
}

test('encodeProduceRequest writes the bytes kafkajs 2.2 writes, over random requests', async () => {
  await fc.assert(
    fc.asyncProperty(request, async (args) => {
      const ours = encodeProduceRequest(args as ProduceArgs, NOW, Long);
      assert.ok(ours, 'a request it covers was left to kafkajs');
      assert.deepEqual(ours, await kafkajsBytes(args as ProduceArgs, NOW));
    }),
    { numRuns: 500 },
  );
});

test('encodeProduceRequest leaves to kafkajs what it does not cover', () => {
  const data = (messages: unknown[]) => [{ topic: 't', partitions: [{ partition: 0, messages }] }] as ProduceArgs['topicData'];
  const now = Date.now();
  for (const args of [
    { acks: -1, timeout: 30000, compression: 1, topicData: data([{ value: 'v' }]) },
    { acks: -1, timeout: 30000, topicData: data([{ value: 42 }]) },
    { acks: -1, timeout: 30000, topicData: data([{ value: 'v', headers: null }]) },
    { acks: -1, timeout: 30000, topicData: data([{ value: 'v', timestamp: 'soon' }]) },
    // The second record's timestamp delta (now minus the first's) is beyond 32 bits.
    { acks: -1, timeout: 30000, topicData: data([{ value: 'v', timestamp: now - 2 ** 40 }, { value: 'w' }]) },
    // A timestamp of 0 is the batch's first; kafkajs reads it as "now" for the record's own delta.
    { acks: -1, timeout: 30000, topicData: data([{ value: 'v', timestamp: 0 }]) },
    { acks: -1, timeout: 30000, transactionalId: 7, topicData: data([{ value: 'v' }]) },
  ] as ProduceArgs[]) {
    assert.equal(encodeProduceRequest(args, now, Long), undefined, JSON.stringify(args));
  }
});

test('groupMessagesPerPartition groups as kafkajs does, in order', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ key: fc.string(), partition: fc.oneof(fc.nat(5), fc.constant(undefined)) }), { maxLength: 60 }), fc.nat(6), (messages, partitions) => {
      const input = {
        topic: 't',
        partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i })),
        messages,
        partitioner: ({ message }: { message: unknown }) => (message as { partition?: number }).partition ?? 9,
      };
      assert.deepEqual(groupMessagesPerPartition(input), kafkajsGroup(input));
    }),
  );
});

test('installed, kafkajs producers write through it, and records read back unchanged and in order from the local broker', async () => {
  const broker = await startLocalBroker({ topics: [{ name: 't', partitions: 3 }] });
  try {
    assert.equal(installRecordEncoder(), true);
    const FastKafka = installProducePath();
    assert.ok(FastKafka, 'installs on kafkajs 2.2');
    assert.equal(installProducePath(), FastKafka, 'a second call returns the same class');
    assert.equal(require(`${SRC}producer/groupMessagesPerPartition.js`), groupMessagesPerPartition);
    // Count the requests encoded into one buffer of their exact size (kafkajs's encoders grow by doubling).
    const v3Path = require.resolve(`${SRC}protocol/requests/produce/v3/request.js`);
    const installed = require(v3Path) as typeof kafkajsRequestV3;
    assert.notEqual(installed, kafkajsRequestV3);
    let exact = 0;
    require.cache[v3Path]!.exports = (args: ProduceArgs) => {
      const r = installed(args);
      const encode = r.encode;
      return Object.assign(r, {
        encode: async () => {
          const e = (await encode()) as unknown as { buf: Buffer; offset: number };
          if (e.buf.length === e.offset) exact++;
          return e;
        },
      });
    };
    for (const v of [4, 5, 6, 7]) delete require.cache[require.resolve(`${SRC}protocol/requests/produce/v${v}/request.js`)];

    const kafka: Kafka = new FastKafka({ brokers: broker.brokers, logLevel: 0 });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sent = Array.from({ length: 300 }, (_, i) => ({
      key: `k${i}`,
      value: `välue ${i} ${'x'.repeat(i % 50)}`,
      partition: i % 3,
      headers: { 'mlstream-source': `t/0/${i}`, h: ['a', 'b'] },
      ...(i % 7 === 0 ? { timestamp: String(Date.now() - 60_000 + i) } : {}),
    }));
    await producer.send({ topic: 't', acks: -1, messages: sent.slice(0, 150) });
    await producer.send({ topic: 't', acks: -1, messages: sent.slice(150) });
    await producer.disconnect();
    assert.equal(exact, 2, 'both sends went through the one-buffer encoder');

    const consumer = kafka.consumer({ groupId: 'produce-test', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen = new Map<number, Array<{ key: string; value: string; source: string; h: string[]; timestamp: string }>>();
    let count = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const list = seen.get(partition) ?? [];
            list.push({
              key: String(message.key),
              value: String(message.value),
              source: String(message.headers?.['mlstream-source']),
              h: (message.headers?.h as Buffer[]).map(String),
              timestamp: message.timestamp,
            });
            seen.set(partition, list);
            if (++count === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    for (let p = 0; p < 3; p++) {
      const expected = sent.filter((m) => m.partition === p);
      const got = seen.get(p) ?? [];
      assert.equal(got.length, expected.length, `partition ${p}`);
      got.forEach((m, i) => {
        const e = expected[i]!;
        assert.deepEqual([m.key, m.value, m.source, m.h], [e.key, e.value, e.headers['mlstream-source'], ['a', 'b']]);
        if (e.timestamp) assert.equal(m.timestamp, e.timestamp);
      });
    }
  } finally {
    await broker.stop();
  }
});
