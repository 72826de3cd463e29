import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { FrameReader, MAX_FRAME_BYTES, framedSocketFactory, framesTakenWhole, installFrameReader } from '../../runtime/kafka/kafkajs-frames.js';
import { startLocalBroker } from '../../scripts/broker/index.js';

/** Kafka's framing: a 4-byte big-endian size, then that many bytes. */
function frameOf(body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Feeds `stream` to a reader as a socket would: each read fills part of the buffer the reader offers. */
function feed(stream: Buffer, readSizes: readonly number[]): Array<{ chunk: Buffer; whole: boolean }> {
  const out: Array<{ chunk: Buffer; whole: boolean }> = [];
  const reader = new FrameReader((chunk, whole) => out.push({ chunk: Buffer.from(chunk), whole }));
  let at = 0;
  for (let k = 0; at < stream.length; k++) {
    const target = reader.target();
    assert.ok(target.length > 0, 'the reader offered an empty buffer');
    const n = Math.min(target.length, stream.length - at, Math.max(1, readSizes[k % readSizes.length]!));
    stream.copy(target, 0, at, at + n);
    at += n;
    reader.read(n);
  }
  return out;
}

test('hands on every response whole, in order, however the socket splits the bytes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 60_000, max: 300_000 })), { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 20 }),
      (sizes, readSizes) => {
        const frames = sizes.map((n) => frameOf(randomBytes(n)));
        const out = feed(Buffer.concat(frames), readSizes);
        assert.equal(out.length, frames.length);
        out.forEach((o, i) => {
          assert.equal(o.whole, true);
          assert.ok(o.chunk.equals(frames[i]!), `response ${i} differs`);
        });
      },
    ),
    { numRuns: 150 },
  );
});

test('a size prefix split over reads, one byte at a time, still frames the response', () => {
  const frames = [frameOf(Buffer.from('a')), frameOf(Buffer.alloc(0)), frameOf(randomBytes(70_000))];
  const out = feed(Buffer.concat(frames), [1, 1, 3, 2, 5]);
  assert.deepEqual(
    out.map((o) => o.whole),
    [true, true, true],
  );
  out.forEach((o, i) => assert.ok(o.chunk.equals(frames[i]!)));
});

test('bytes that are not Kafka framing go on unframed, every byte in order', () => {
  const good = frameOf(Buffer.from('fine'));
  const bad = Buffer.alloc(8);
  bad.writeInt32BE(MAX_FRAME_BYTES + 1, 0);
  const rest = randomBytes(200_000);
  const stream = Buffer.concat([good, bad, rest]);
  const out = feed(stream, [7, 50_000, 3]);
  assert.equal(out[0]!.whole, true);
  assert.ok(out[0]!.chunk.equals(good));
  assert.ok(out.slice(1).every((o) => !o.whole));
  assert.ok(Buffer.concat(out.slice(1).map((o) => o.chunk)).equals(Buffer.concat([bad, rest])));
  const negative = Buffer.alloc(4);
  negative.writeInt32BE(-1, 0);
  const out2 = feed(Buffer.concat([negative, rest]), [1000]);
  assert.ok(out2.every((o) => !o.whole));
  assert.ok(Buffer.concat(out2.map((o) => o.chunk)).equals(Buffer.concat([negative, rest])));
});

test('through kafkajs and the local broker: fetches of megabytes arrive whole and every value reads back unchanged', async () => {
  const broker = await startLocalBroker({ topics: [{ name: 'frames', partitions: 2 }] });
  try {
    assert.equal(installFrameReader(), true);
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING, socketFactory: framedSocketFactory() });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // 400 records of 20-40 KB: fetches of up to the consumer's 1 MiB per partition, each read over many socket reads.
    const sent = Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: randomBytes(20_000 + ((i * 997) % 20_000)), headers: { n: String(i) } }));
    for (let i = 0; i < sent.length; i += 100) await producer.send({ topic: 'frames', acks: -1, messages: sent.slice(i, i + 100) });
    await producer.disconnect();

    const before = framesTakenWhole.count;
    const consumer = kafka.consumer({ groupId: 'frames-test', maxWaitTimeInMs: 50, maxBytes: 4 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['frames'], fromBeginning: true });
    const seen = new Map<string, { value: Buffer; n: string }>();
    let largest = 0;
    let unshared = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            largest = Math.max(largest, batch.messages.reduce((s, m) => s + (m.value?.length ?? 0), 0));
            for (const m of batch.messages) seen.set(String(m.key), { value: Buffer.from(m.value!), n: String(m.headers?.n) });
            // Responses of 64 KiB and more are read into shared memory, which the worker pool reads without a copy.
            if (batch.messages.some((m) => !(m.value?.buffer instanceof SharedArrayBuffer))) unshared++;
            if (seen.size === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    for (const [i, m] of sent.entries()) {
      const got = seen.get(m.key);
      assert.ok(got, `record ${m.key} was not read back`);
      assert.ok(got.value.equals(m.value), `record ${m.key}'s value differs`);
      assert.equal(got.n, String(i));
    }
    assert.equal(unshared, 0, 'every batch of megabytes was read into shared memory');
    assert.ok(largest > 256 * 1024, `the batches were too small to need many reads (largest ${largest} bytes)`);
    // Every response of the consumer and producer went through the reader, not kafkajs's joining path.
    assert.ok(framesTakenWhole.count - before > 10, `only ${framesTakenWhole.count - before} responses were taken whole`);
  } finally {
    await broker.stop();
  }
});
