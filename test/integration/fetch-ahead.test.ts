import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import { kafkajsClient } from '../../runtime/kafka/kafkajs-client.js';
import type { KafkaClient } from '../../runtime/kafka/port.js';
import { StreamRunner, type BatchHandlerResult } from '../../runtime/kafka/runner.js';
import { collectUntil, produceAll, testKafka } from '../helpers/kafka.js';
import { pauseResumeRestart } from '../helpers/runner-pause.js';

/*
 * Fetch-ahead (RunnerOptions.fetchAhead, KAFKA_FETCH_AHEAD) on kafkajs and the local broker:
 * a partition's next batch is fetched while its current one is still in the engine and being
 * delivered, and nothing else changes — every record once, commits in order, a pause and
 * resume at the record that waited, a restart from the commits.
 */

/** kafkajs, noting each batch handed to the runner ("fetched <first offset>"). */
function watchedKafkajs(bootstrap: string, events: string[]): KafkaClient {
  const client = kafkajsClient(testKafka(bootstrap));
  return {
    ...client,
    consumer: (settings, consumerEvents) => {
      const consumer = client.consumer(settings, consumerEvents);
      return Object.assign(Object.create(consumer) as typeof consumer, {
        run: (eachBatch: Parameters<typeof consumer.run>[0]) =>
          consumer.run((batch) => {
            events.push(`fetched ${batch.messages[0]!.offset}`);
            return eachBatch(batch);
          }),
      });
    },
  };
}

/** Every record's value is this long ({"v":…,"p":…} padded), so a byte bound cuts slices at known offsets. */
const VALUE_BYTES = 17;

const cases: { fetchAhead: boolean; sliceSize: number; sliceBytes?: number; perSlice: number; ahead: boolean; what: string }[] = [
  { fetchAhead: true, sliceSize: 100, perSlice: 100, ahead: true, what: 'a batch of five slices' },
  { fetchAhead: false, sliceSize: 100, perSlice: 100, ahead: false, what: 'a batch of five slices' },
  // 500 small records under one slice of 1000: the partition keeps up, so no fetch-ahead.
  { fetchAhead: true, sliceSize: 1000, perSlice: 1000, ahead: false, what: 'a batch smaller than a slice (and than half a fetch)' },
  // The same batch, cut by bytes: 100 records' worth per slice, so a whole slice and fetched ahead.
  { fetchAhead: true, sliceSize: 1000, sliceBytes: 100 * VALUE_BYTES, perSlice: 100, ahead: true, what: 'a batch of five slices by bytes' },
];

for (const { fetchAhead, sliceSize, sliceBytes, perSlice, ahead, what } of cases) {
  test(`fetchAhead ${fetchAhead}, ${what}: the partition's next batch is fetched ${ahead ? 'before' : 'only after'} the last slice of the batch before it is committed; every record once, commits in order`, { timeout: 120_000 }, async (t) => {
    const broker = await startLocalBroker({ topics: [{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }, { name: 'errors', partitions: 1 }] });
    t.after(() => broker.stop());
    const firstHalf = 500;
    const total = 1000;
    const record = (i: number): { key: string; value: string } => ({ key: `k${i}`, value: JSON.stringify({ v: i, p: 'x'.repeat(4 - String(i).length) }) });
    assert.equal(record(7).value.length, VALUE_BYTES);
    assert.equal(record(999).value.length, VALUE_BYTES);
    await produceAll(broker.bootstrap, 'in', Array.from({ length: firstHalf }, (_, i) => record(i)));

    const events: string[] = [];
    let second: Promise<void> | undefined;
    const handle = async (messages: InputMessage[]): Promise<BatchHandlerResult> => {
      // The second half arrives while the first batch (offsets 0..499) is in hand.
      second ??= produceAll(broker.bootstrap, 'in', Array.from({ length: total - firstHalf }, (_, i) => record(firstHalf + i)));
      await second;
      // Engine work that takes a while: time for a fetch to go out meanwhile, if it may.
      await new Promise((r) => setTimeout(r, 50));
      const predictions: OutputMessage[] = messages.map((m, position) => ({ topic: 'out', position, key: m.key, value: String(m.value), headers: {} }));
      return { predictions, errors: [] };
    };
    const runner = new StreamRunner(
      watchedKafkajs(broker.bootstrap, events),
      { groupId: `ahead-${fetchAhead}-${sliceSize}-${perSlice}`, inputTopic: 'in', errorsTopic: 'errors', fromBeginning: true, partitionsConsumedConcurrently: 1, sessionTimeoutMs: 6000, maxWaitTimeInMs: 50, sliceSize, sliceBytes, deliveryTimeoutMs: 30_000, fetchAhead },
      handle,
      pino({ level: 'silent' }),
      { beforeCommit: async (_result, inputs) => void events.push(`commit ${inputs[0]!.offset}`) },
    );
    let crashed: Error | undefined;
    await runner.start((e) => (crashed = e));
    const outputs = await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= total, 60_000);
    // Time for a record answered twice to show up.
    await new Promise((r) => setTimeout(r, 500));
    const all = await collectUntil(broker.bootstrap, ['out'], () => false, 1000);
    await runner.stop();
    assert.equal(crashed, undefined);
    assert.ok(outputs.length >= total);

    assert.deepEqual(all.map((o) => (o.value as { v: number }).v).sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i), 'every record answered once');
    const commits = events.filter((e) => e.startsWith('commit')).map((e) => Number(e.split(' ')[1]));
    const sliceStarts = (from: number, to: number): number[] => Array.from({ length: Math.ceil((to - from) / perSlice) }, (_, i) => from + i * perSlice);
    assert.deepEqual(commits, [...sliceStarts(0, firstHalf), ...sliceStarts(firstHalf, total)], 'one commit per slice, in offset order');
    const fetched = events.filter((e) => e.startsWith('fetched')).map((e) => Number(e.split(' ')[1]));
    assert.deepEqual(fetched.slice(0, 2), [0, firstHalf], `two batches, the second from where the first ended: ${events.join(', ')}`);
    const secondFetched = events.indexOf(`fetched ${firstHalf}`);
    const lastOfFirstCommitted = events.indexOf(`commit ${sliceStarts(0, firstHalf).at(-1)!}`);
    if (ahead) assert.ok(secondFetched < lastOfFirstCommitted, `fetched ahead: ${events.join(', ')}`);
    else assert.ok(secondFetched > lastOfFirstCommitted, `fetched after: ${events.join(', ')}`);
  });
}

const kafkajs = async (bootstrap: string): Promise<KafkaClient> => kafkajsClient(testKafka(bootstrap));

test('kafkajs with fetch-ahead: every record once, commits in order per partition, a paused partition resumes at the record that waited, a restart resumes from the commits', { timeout: 180_000 }, (t) => pauseResumeRestart(t, kafkajs, { fetchAhead: true }));

test('kafkajs without fetch-ahead: the same', { timeout: 180_000 }, (t) => pauseResumeRestart(t, kafkajs, { fetchAhead: false }));
