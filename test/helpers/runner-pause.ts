import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import type { KafkaClient } from '../../runtime/kafka/port.js';
import { StreamRunner, type BatchHandlerResult, type RunnerOptions } from '../../runtime/kafka/runner.js';
import { collectUntil, produceAll } from './kafka.js';

/*
 * The runner on one Kafka client, on the local broker: every record answered once over
 * several partitions, each partition's commits in offset order and each only after its
 * outputs; a partition paused at a record that waits, then resumed, reads again from exactly
 * that record; a restarted runner resumes from the committed offsets.
 */
const partitions = 3;
const total = 1500;

function runnerFor(client: KafkaClient, options: Partial<RunnerOptions>, handle: (m: InputMessage[]) => Promise<BatchHandlerResult>, events: string[]): StreamRunner {
  return new StreamRunner(
    client,
    {
      groupId: 'pause-resume',
      inputTopic: 'in',
      errorsTopic: 'errors',
      fromBeginning: true,
      partitionsConsumedConcurrently: 2,
      sessionTimeoutMs: 6000,
      maxWaitTimeInMs: 50,
      sliceSize: 100,
      deliveryTimeoutMs: 30_000,
      ...options,
    },
    handle,
    pino({ level: 'silent' }),
    { beforeCommit: async (_r, inputs) => void events.push(`commit ${inputs[0]!.partition} ${inputs[0]!.offset} ${inputs[inputs.length - 1]!.offset}`) },
  );
}

const answer = (messages: InputMessage[], processed = messages.length): BatchHandlerResult => ({
  predictions: messages.slice(0, processed).map((m, position): OutputMessage => ({ topic: 'out', position, key: m.key, value: String(m.value), headers: {} })),
  errors: [],
  processed,
  ...(processed < messages.length ? { wait: { reason: 'test: waits', model: 'm' } } : {}),
});

/** The whole check, on clients from `client` (called once per runner) with `options` over the test's own. */
export async function pauseResumeRestart(t: TestContext, client: (bootstrap: string) => Promise<KafkaClient>, options: Partial<RunnerOptions> = {}): Promise<void> {
  const broker = await startLocalBroker({ topics: [{ name: 'in', partitions }, { name: 'out', partitions: 1 }, { name: 'errors', partitions: 1 }] });
  t.after(() => broker.stop());
  await produceAll(
    broker.bootstrap,
    'in',
    Array.from({ length: total }, (_, i) => ({ key: `k${i}`, value: String(i), partition: i % partitions })),
  );

  // First runner: the record with value 700 waits the first time it is seen; the partition pauses there.
  const events: string[] = [];
  const waitOn = '700';
  let waited = 0;
  let handled = 0;
  const first = runnerFor(await client(broker.bootstrap), options, async (messages) => {
    handled += messages.length;
    const at = messages.findIndex((m) => String(m.value) === waitOn);
    if (at >= 0 && waited++ === 0) return answer(messages, at);
    return answer(messages);
  }, events);
  let crashed: Error | undefined;
  await first.start((e) => (crashed = e));
  // Records of the waiting partition from 700 on: 700, 703, … 1498.
  const held = Array.from({ length: total }, (_, i) => i).filter((i) => i >= Number(waitOn) && i % partitions === Number(waitOn) % partitions).length;
  await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= total - held, 60_000);
  // Time for anything past the waiting record to show up wrongly.
  await new Promise((r) => setTimeout(r, 1500));
  const before = await collectUntil(broker.bootstrap, ['out'], () => false, 2000);
  assert.equal(before.length, total - held, 'everything but the waiting partition from the waiting record on');
  assert.equal(first.waitingPartitions().length, 1, 'one partition waits');
  const waiting = first.waitingPartitions()[0]!;
  assert.equal(waiting.partition, Number(waitOn) % partitions);
  assert.ok(!before.some((m) => m.value === Number(waitOn)), 'nothing at or after the waiting record of its partition was answered');
  first.resumeWaiting();
  const afterResume = await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= total, 60_000);
  await first.stop();
  assert.equal(crashed, undefined);
  assert.ok(handled >= total);

  const values = afterResume.map((o) => Number(o.value)).sort((a, b) => a - b);
  assert.deepEqual(values, Array.from({ length: total }, (_, i) => i), 'every record answered exactly once');
  for (let p = 0; p < partitions; p++) {
    const ranges = events.filter((e) => e.startsWith(`commit ${p} `)).map((e) => e.split(' ').slice(2).map(Number) as [number, number]);
    for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]![0], ranges[i - 1]![1] + 1, `partition ${p} commits in order without gaps: ${JSON.stringify(ranges)}`);
    assert.equal(ranges[0]![0], 0);
    assert.equal(ranges[ranges.length - 1]![1], total / partitions - 1);
  }

  // A second runner in the same group finds everything committed: more records, only they are answered.
  await produceAll(broker.bootstrap, 'in', Array.from({ length: 30 }, (_, i) => ({ key: `n${i}`, value: String(total + i), partition: i % partitions })));
  const second = runnerFor(await client(broker.bootstrap), options, async (messages) => answer(messages), []);
  await second.start((e) => (crashed = e));
  await collectUntil(broker.bootstrap, ['out'], (seen) => seen.length >= total + 30, 60_000);
  // Time for a wrongly re-read partition to show up.
  await new Promise((r) => setTimeout(r, 1500));
  await second.stop();
  assert.equal(crashed, undefined);
  const all = await collectUntil(broker.bootstrap, ['out'], () => false, 2000);
  assert.deepEqual(all.map((o) => Number(o.value)).sort((a, b) => a - b), Array.from({ length: total + 30 }, (_, i) => i), 'the restarted runner answered only the new records');
}
