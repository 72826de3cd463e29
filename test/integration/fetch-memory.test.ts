import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import { fetchMemory, installFetchLeases } from '../../runtime/kafka/fetch-memory.js';
import { framedSocketFactory, installFrameReader } from '../../runtime/kafka/kafkajs-frames.js';
import { kafkajsClient } from '../../runtime/kafka/kafkajs-client.js';
import { StreamRunner, type BatchHandlerResult } from '../../runtime/kafka/runner.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';

/*
 * The runner on kafkajs as `serve` runs it: responses read by the frame reader, leased by each
 * fetch's batches, and recycled as the runner disposes of the batches (fetch-memory.ts). The
 * outputs carry their input's key as a view of the response and are encoded when they are
 * produced, so a response recycled too early would show as outputs with another record's key
 * or value.
 */

test('kafkajs with fetch leases: responses are recycled as their batches finish, and every output carries its own key, value and header', { timeout: 120_000 }, async (t) => {
  const broker = await startLocalBroker({ topics: [{ name: 'in', partitions: 4 }, { name: 'out', partitions: 2 }, { name: 'errors', partitions: 1 }] });
  t.after(() => broker.stop());
  assert.equal(installFrameReader(), true);
  assert.equal(installFetchLeases(), true);
  const total = 4000;
  // About 3 KB each, 12 MB in all: fetches of up to 512 KiB per partition, read into releasable memory.
  const record = (i: number): { key: string; value: string; headers: Record<string, string> } => ({ key: `k${i}`, value: JSON.stringify({ v: i, pad: String(i % 10).repeat(3000) }), headers: { n: String(i) } });
  await produceAll(broker.bootstrap, 'in', Array.from({ length: total }, (_, i) => record(i)));

  const before = { ...fetchMemory };
  const handle = async (messages: InputMessage[]): Promise<BatchHandlerResult> => {
    // Engine work that takes a turn, so slices of different partitions interleave.
    await new Promise((r) => setImmediate(r));
    const predictions: OutputMessage[] = messages.map((m, position) => ({
      topic: 'out',
      position,
      key: m.key,
      value: JSON.stringify({ n: String(m.headers?.n), value: String(m.value) }),
      headers: {},
    }));
    return { predictions, errors: [] };
  };
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, socketFactory: framedSocketFactory() });
  const runner = new StreamRunner(
    kafkajsClient(kafka),
    { groupId: 'fetch-memory', inputTopic: 'in', errorsTopic: 'errors', fromBeginning: true, partitionsConsumedConcurrently: 4, sessionTimeoutMs: 6000, maxWaitTimeInMs: 50, sliceSize: 100, deliveryTimeoutMs: 30_000, fetchAhead: true },
    handle,
    pino({ level: 'silent' }),
  );
  let crashed: Error | undefined;
  await runner.start((e) => (crashed = e));
  const outputs = await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= total, 60_000);
  await runner.stop();
  assert.equal(crashed, undefined);

  const seen = new Set<number>();
  for (const o of outputs) {
    const { n, value } = o.value as { n: string; value: string };
    const i = Number(n);
    assert.ok(Number.isInteger(i) && i >= 0 && i < total, `an output without its header: ${n}`);
    assert.equal(o.key, `k${i}`, `output ${i}'s key`);
    assert.equal(value, record(i).value, `output ${i}'s value`);
    seen.add(i);
  }
  assert.equal(seen.size, total, 'every record answered');

  const made = fetchMemory.made - before.made;
  const reused = fetchMemory.reused - before.reused;
  const released = fetchMemory.released - before.released;
  assert.ok(made + reused >= 6, `only ${made + reused} responses were read into recycled memory`);
  assert.ok(released > 0 && released <= fetchMemory.leased - before.leased, `${released} responses released (${fetchMemory.leased - before.leased} leased)`);
  assert.ok(reused > 0, `no response was read into recycled memory (${made} into new memory)`);
});
