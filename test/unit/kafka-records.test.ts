import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { encodeRecord, installRecordEncoder, type EncodedRecord, type RecordInput } from '../../runtime/kafka/kafkajs-records.js';
import { startLocalBroker } from '../../scripts/broker/index.js';

const require = createRequire(import.meta.url);
const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
// kafkajs's own encoder, taken before anything in this process installs the faster one.
const kafkajsRecord = require(RECORD) as (r: RecordInput) => { buffer: Buffer };

const bytesOf = (r: EncodedRecord | undefined): number[] => {
  assert.ok(r, 'encodeRecord left a record it covers to kafkajs');
  assert.ok(Buffer.isBuffer(r.buf) && r.buf === r.buffer);
  return [...r.buffer];
};

test('writes a v2 record as the message format lays it out (zig-zag varints, headers in key order)', () => {
  const record = { offsetDelta: 2, timestampDelta: -1, key: 'k', value: Buffer.from([0xff]), headers: { a: 'xy', b: ['', Buffer.from('z')] } };
  // body: attributes 0, timestamp delta -1 → 1, offset delta 2 → 4, key len 1 → 2 'k', value len 1 → 2 0xff,
  // 3 headers → 6: ("a" → 2 'a', "xy" → 4 'x' 'y'), ("b", "" → 0), ("b", "z")
  const body = [0, 1, 4, 2, 0x6b, 2, 0xff, 6, 2, 0x61, 4, 0x78, 0x79, 2, 0x62, 0, 2, 0x62, 2, 0x7a];
  assert.deepEqual(bytesOf(encodeRecord(record)), [body.length * 2, ...body]);
  // A null key is length -1 (zig-zag 1); a 200-byte value takes a two-byte varint (400 → 0x90 0x03),
  // and so does the body: 1 + 1 + 1 + 1 + 2 + 200 + 1 = 207 bytes (414 → 0x9e 0x03).
  const big = 'v'.repeat(200);
  assert.deepEqual(bytesOf(encodeRecord({ key: null, value: big })).slice(0, 7), [0x9e, 0x03, 0, 0, 0, 1, 0x90]);
});

test('writes the bytes kafkajs 2.2 writes, over random records', () => {
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
  const blob = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
  const nullable = fc.oneof(text, blob, fc.constant(null), fc.constant(undefined));
  const headerValue = fc.oneof(text, blob);
  const record = fc.record(
    {
      key: nullable,
      value: fc.oneof(nullable, fc.string({ minLength: 100, maxLength: 5000 })),
      headers: fc.dictionary(fc.string({ maxLength: 12 }), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 5 }),
      offsetDelta: fc.oneof(fc.nat(300), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
      timestampDelta: fc.oneof(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    },
    { requiredKeys: ['value'] },
  );
  fc.assert(
    fc.property(record, (r) => {
      assert.deepEqual(bytesOf(encodeRecord(r)), [...kafkajsRecord(r).buffer]);
    }),
    { numRuns: 2000 },
  );
});

test('leaves to kafkajs what it does not cover, so kafkajs accepts or refuses it as before', () => {
  for (const r of [
    { value: 'v', timestampDelta: 2 ** 40 },
    { value: 'v', timestampDelta: 0.5 },
    { value: 42 },
    { value: 'v', key: 7 },
    { value: 'v', headers: { a: null } },
    { value: 'v', headers: { a: 5 } },
  ] as RecordInput[]) {
    assert.equal(encodeRecord(r), undefined, JSON.stringify(r));
  }
});

test('installed, it encodes what kafkajs produces, and the records read back unchanged from the local broker', async () => {
  const broker = await startLocalBroker({ topics: [{ name: 't', partitions: 1 }] });
  try {
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // A produce before installing loads kafkajs's v3 produce request with its own encoder.
    await producer.send({ topic: 't', acks: -1, messages: [{ key: 'before', value: 'x' }] });
    const produceRequests = [3, 4, 5, 6, 7].map((v) => require.resolve(`kafkajs/src/protocol/requests/produce/v${v}/request.js`));
    assert.ok(require.cache[produceRequests[0]!], 'the first produce loaded the v3 request (which later versions build on)');
    assert.equal(installRecordEncoder(), true);
    // Dropped from the cache: kafkajs requires its version's module again on the next produce, taking the new encoder.
    for (const path of produceRequests) assert.equal(require.cache[path], undefined, path);
    const installed = require(RECORD) as (r: RecordInput) => EncodedRecord;
    assert.notEqual(installed, kafkajsRecord);
    let calls = 0;
    const counting = require.cache[require.resolve(RECORD)]!;
    counting.exports = (r: RecordInput) => (calls++, installed(r));
    const sent = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `välue ${i} ${'x'.repeat(i * 7)}`, headers: { 'mlstream-source': `t/0/${i}`, h: ['a', 'b'] } }));
    await producer.send({ topic: 't', acks: -1, messages: sent });
    counting.exports = installed;
    assert.equal(calls, sent.length);
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'records-test', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen: Array<{ key: string; value: string; headers: Record<string, unknown> }> = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push({ key: String(message.key), value: String(message.value), headers: message.headers ?? {} });
            if (seen.length === sent.length + 1) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.equal(seen[0]!.key, 'before');
    seen.slice(1).forEach((m, i) => {
      assert.equal(m.key, sent[i]!.key);
      assert.equal(m.value, sent[i]!.value);
      assert.equal(String(m.headers['mlstream-source']), sent[i]!.headers['mlstream-source']);
      assert.deepEqual((m.headers.h as Buffer[]).map(String), ['a', 'b']);
    });
  } finally {
    await broker.stop();
  }
});
