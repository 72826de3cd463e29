import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import { librdkafkaClient } from '../../runtime/kafka/librdkafka-client.js';
import type { KafkaClient } from '../../runtime/kafka/port.js';
import { StreamRunner, type BatchHandlerResult } from '../../runtime/kafka/runner.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { pauseResumeRestart } from '../helpers/runner-pause.js';

/*
 * The runner on the second Kafka client (librdkafka through @confluentinc/kafka-javascript,
 * built by scripts/kafka-native/build.sh), on the local broker: test/helpers/runner-pause.ts
 * (every record once, commits in order, pause and resume at the waiting record, a restart
 * resumes from the commits), then produce faults.
 */
const librdkafka = (bootstrap: string): Promise<KafkaClient> => librdkafkaClient({ brokers: [bootstrap], clientId: 'librdkafka-test', deliveryTimeoutMs: 30_000 }, pino({ level: 'silent' }));

test('librdkafka client: every record once, commits in order per partition, a paused partition resumes at the record that waited, a restart resumes from the commits', { timeout: 180_000 }, (t) => pauseResumeRestart(t, librdkafka));

test('librdkafka client: a partition held up in the engine does not hold back the next batches of another (no round barrier); every record once, each partition in order', { timeout: 120_000 }, async (t) => {
  const broker = await startLocalBroker({ topics: [{ name: 'in', partitions: 2 }, { name: 'out', partitions: 1 }, { name: 'errors', partitions: 1 }] });
  t.after(() => broker.stop());
  // Partition 0 holds a few records, partition 1 many: one consume call returns a full round
  // (400: 4 partitions at once × slices of 100) with all of partition 0's in a small batch.
  const few = 50;
  const many = 2000;
  await produceAll(broker.bootstrap, 'in', [
    ...Array.from({ length: few }, (_, i) => ({ partition: 0, key: `a${i}`, value: JSON.stringify({ p: 0, v: i }) })),
    ...Array.from({ length: many }, (_, i) => ({ partition: 1, key: `b${i}`, value: JSON.stringify({ p: 1, v: i }) })),
  ]);
  const client = await librdkafka(broker.bootstrap);
  // Each batch the client hands to the runner: partition and first offset.
  const batches: string[] = [];
  const watched: KafkaClient = {
    ...client,
    consumer: (settings, events) => {
      const consumer = client.consumer(settings, events);
      // Wrapped on the consumer itself: its methods keep their own `this` (a stop sets the loop's flag).
      const run = consumer.run.bind(consumer);
      consumer.run = (eachBatch) =>
        run((batch) => {
          batches.push(`${batch.partition}@${batch.messages[0]!.offset}`);
          return eachBatch(batch);
        });
      return consumer;
    },
  };
  const secondOfPartition1 = (): boolean => batches.filter((b) => b.startsWith('1@')).length >= 2;
  let heldUntil: 'released' | 'timed out' | undefined;
  const handle = async (messages: InputMessage[]): Promise<BatchHandlerResult> => {
    if (messages[0]!.partition === 0 && messages[0]!.offset === '0') {
      // Partition 0's first slice stays in the engine until partition 1's next batch is handed over.
      const deadline = Date.now() + 15_000;
      while (!secondOfPartition1() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      heldUntil = secondOfPartition1() ? 'released' : 'timed out';
    }
    const predictions: OutputMessage[] = messages.map((m, position) => ({ topic: 'out', position, key: m.key, value: String(m.value), headers: {} }));
    return { predictions, errors: [] };
  };
  const commits: Record<number, number[]> = { 0: [], 1: [] };
  const runner = new StreamRunner(
    watched,
    { groupId: 'no-barrier', inputTopic: 'in', errorsTopic: 'errors', fromBeginning: true, partitionsConsumedConcurrently: 4, sessionTimeoutMs: 6000, maxWaitTimeInMs: 50, sliceSize: 100, deliveryTimeoutMs: 30_000 },
    handle,
    pino({ level: 'silent' }),
    { beforeCommit: async (_result, inputs) => void commits[inputs[0]!.partition]!.push(Number(inputs[0]!.offset)) },
  );
  let crashed: Error | undefined;
  await runner.start((e) => (crashed = e));
  const outputs = await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= few + many, 60_000);
  await runner.stop();
  assert.equal(crashed, undefined);
  assert.equal(heldUntil, 'released', `partition 1's next batch came while partition 0's first was held: ${batches.join(', ')}`);
  const values = outputs.map((o) => o.value as { p: number; v: number });
  for (const [p, n] of [[0, few], [1, many]] as const) {
    assert.deepEqual(values.filter((v) => v.p === p).map((v) => v.v).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `partition ${p}: every record once`);
    const starts = commits[p]!;
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b), `partition ${p}: commits in offset order`);
  }
});

test('librdkafka client: concurrent sends through injected produce errors and a dropped connection lose nothing', { timeout: 120_000 }, async (t) => {
  const broker = await startLocalBroker({ topics: [{ name: 'out', partitions: 3 }] });
  t.after(() => broker.stop());
  const client = await librdkafkaClient({ brokers: [broker.bootstrap], clientId: 'librdkafka-faults', deliveryTimeoutMs: 30_000 }, pino({ level: 'silent' }));
  const sender = client.sender();
  await sender.connect();
  t.after(() => sender.disconnect());
  // With librdkafka's idempotent producer this lost records on the local broker (which checks
  // sequence numbers only for transactional producers): a failed request followed by an
  // acknowledged later one was taken as written.
  const slices = 16;
  const perSlice = 250;
  for (let round = 0; round < slices; round += 4) {
    for (const fault of ['NOT_LEADER_FOR_PARTITION 2', 'REQUEST_TIMED_OUT 2', 'LEADER_NOT_AVAILABLE 1', 'TRANSPORT 1', 'NOT_ENOUGH_REPLICAS 1']) await broker.command(`errors Produce ${fault}`);
    await Promise.all(
      [0, 1, 2, 3].map((j) => {
        const first = (round + j) * perSlice;
        return sender.send([{ topic: 'out', messages: Array.from({ length: perSlice }, (_, i) => ({ key: `k${first + i}`, value: String(first + i) })) }]);
      }),
    );
  }
  const total = slices * perSlice;
  const seen = await collectUntil(broker.bootstrap, ['out'], (s) => s.length >= total, 30_000);
  const values = new Set(seen.map((o) => Number(o.value)));
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !values.has(i));
  assert.deepEqual(missing, [], `${missing.length} of ${total} sent records are not in the topic`);
});
