import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import { kafkajsClient } from '../../runtime/kafka/kafkajs-client.js';
import { StreamRunner, type BatchHandlerResult } from '../../runtime/kafka/runner.js';
import { collectUntil, produceAll, testKafka } from '../helpers/kafka.js';

/*
 * The runner on the local broker: the next slice of a partition goes to the engine while the
 * slice before it is produced and committed (so a worker computes while the main thread
 * waits for acknowledgements), yet offsets are committed strictly in order, each only after
 * its own outputs, and every record is answered once.
 */
test('the next slice is in the engine before the previous one is committed; commits stay in order; every record once', { timeout: 120_000 }, async (t) => {
  const broker = await startLocalBroker({ topics: [{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }, { name: 'errors', partitions: 1 }] });
  t.after(() => broker.stop());
  const total = 1000;
  // produceAll sends 500 per request and the local broker hands out one request per fetch: batches of 500, slices of 100.
  await produceAll(broker.bootstrap, 'in', Array.from({ length: total }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ v: i }) })));

  const events: string[] = [];
  const handle = async (messages: InputMessage[]): Promise<BatchHandlerResult> => {
    events.push(`handle ${messages[0]!.offset}`);
    // Engine work that takes a while, as on a worker thread: the event loop stays free meanwhile.
    await new Promise((r) => setTimeout(r, 20));
    const predictions: OutputMessage[] = messages.map((m, position) => ({ topic: 'out', position, key: m.key, value: String(m.value), headers: {} }));
    return { predictions, errors: [] };
  };
  const runner = new StreamRunner(
    kafkajsClient(testKafka(broker.bootstrap)),
    {
      groupId: 'overlap',
      inputTopic: 'in',
      errorsTopic: 'errors',
      fromBeginning: true,
      partitionsConsumedConcurrently: 1,
      sessionTimeoutMs: 6000,
      maxWaitTimeInMs: 50,
      sliceSize: 100,
      deliveryTimeoutMs: 30_000,
    },
    handle,
    pino({ level: 'silent' }),
    {
      beforeCommit: async (_result, inputs) => void events.push(`commit ${inputs[0]!.offset}`),
    },
  );
  let crashed: Error | undefined;
  await runner.start((e) => (crashed = e));
  const outputs = await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= total, 60_000);
  await runner.stop();
  assert.equal(crashed, undefined);

  assert.deepEqual(outputs.map((o) => (o.value as { v: number }).v).sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i), 'every record answered once');
  const commits = events.filter((e) => e.startsWith('commit')).map((e) => Number(e.split(' ')[1]));
  assert.deepEqual(commits, Array.from({ length: total / 100 }, (_, i) => i * 100), 'one commit per slice, in offset order');
  // Within a fetched batch (offsets 0..499, 500..999), slice k+1 reached the engine before slice k was committed.
  let overlapped = 0;
  for (let first = 100; first < total; first += 100) {
    if (first % 500 === 0) continue;
    const handled = events.indexOf(`handle ${first}`);
    const committedBefore = events.indexOf(`commit ${first - 100}`);
    assert.ok(handled >= 0 && committedBefore >= 0, `events for ${first}: ${events.join(', ')}`);
    if (handled < committedBefore) overlapped++;
  }
  assert.equal(overlapped, 8, `slices computed while the previous one was delivered: ${events.join(', ')}`);
});
