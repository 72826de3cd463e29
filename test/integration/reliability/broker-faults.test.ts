import assert from 'node:assert/strict';
import { test } from 'node:test';
import { account, committedOffsets, feed, readAll, summary, waitUntilCommitted } from '../../helpers/delivery.js';
import { skipWithoutFixtures } from '../../helpers/fixtures.js';
import { irisRecords, toKafkaMessages } from '../../helpers/iris.js';
import { produceAll } from '../../helpers/kafka.js';
import { RUNTIME_KAFKA_CLIENT, type RuntimeProcess } from '../../helpers/runtime-process.js';
import { irisRig } from '../../helpers/served-iris.js';

// A short session: the local broker holds every rebalance for the session timeout less 1 s.
const SHORT_SESSION = { KAFKA_SESSION_TIMEOUT_MS: '3000' };
const GROUP = 'faults';

function logged(rt: RuntimeProcess, pattern: RegExp): number {
  return rt.logs.filter((l) => pattern.test(l)).length;
}

async function assertAllAnswered(boot: string, ids: string[]): Promise<void> {
  await waitUntilCommitted(boot, GROUP, 'messages', 60_000);
  const report = account(ids, await readAll(boot, ['predictions', 'errors']));
  assert.deepEqual(report.missing, [], summary(report));
  for (const [key, outs] of report.byKey) for (const o of outs) assert.equal(o.topic, 'predictions', `${key}: ${JSON.stringify(o.value)}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('produce errors (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, LEADER_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS, a dropped connection) are retried: nothing is lost and the runtime keeps serving', { skip: skipWithoutFixtures, timeout: 90_000 }, async (t) => {
  const { broker, boot, start } = await irisRig(t, GROUP, { env: SHORT_SESSION });
  const records = irisRecords(3000);
  await produceAll(boot, 'messages', toKafkaMessages(records));
  for (const fault of ['NOT_LEADER_FOR_PARTITION 2', 'REQUEST_TIMED_OUT 2', 'LEADER_NOT_AVAILABLE 1', 'TRANSPORT 1', 'NOT_ENOUGH_REPLICAS 1']) {
    await broker.command(`errors Produce ${fault}`);
  }
  const runtime = start();
  await assertAllAnswered(boot, records.map((r) => r.id));
  if (RUNTIME_KAFKA_CLIENT === 'kafkajs') {
    // kafkajs reports each failed request and the runner resends the slice; librdkafka retries
    // these errors inside the client, so only the outcome above is the same.
    assert.ok(logged(runtime, /Failed to send messages/) >= 5, 'the runtime met the injected produce errors');
    assert.ok(logged(runtime, /outputs delivered after retrying/) >= 1, 'a slice was delivered by a later attempt');
  }
  assert.equal(runtime.child.exitCode, null, 'still serving');

  const more = irisRecords(3500).slice(3000);
  await produceAll(boot, 'messages', toKafkaMessages(more));
  await assertAllAnswered(boot, [...records, ...more].map((r) => r.id));
  assert.equal(await runtime.stop(), 0);
});

test('outputs that cannot be delivered within KAFKA_DELIVERY_TIMEOUT_MS stop the runtime with exit 1 and a clear fatal line; nothing is committed, and a restart delivers everything', { skip: skipWithoutFixtures, timeout: 90_000 }, async (t) => {
  const { broker, boot, start } = await irisRig(t, GROUP, { env: SHORT_SESSION });
  const records = irisRecords(1000);
  await produceAll(boot, 'messages', toKafkaMessages(records));
  await broker.command('errors Produce NOT_LEADER_FOR_PARTITION 100000');

  const deliveryTimeoutMs = 3000;
  const first = start({ KAFKA_DELIVERY_TIMEOUT_MS: String(deliveryTimeoutMs) });
  // kafkajs logs each failed request; librdkafka retries inside the client until the delivery
  // timeout, so there the clock starts when the runtime consumes.
  await first.waitForLog((l) => typeof l.msg === 'string' && (RUNTIME_KAFKA_CLIENT === 'kafkajs' ? l.msg.startsWith('Failed to send messages') : l.msg === 'consuming'), 30_000);
  const failingSince = Date.now();
  const code = await first.exited();
  const elapsed = Date.now() - failingSince;
  assert.equal(code, 1, 'exit code 1');
  // Bound: the delivery timeout plus stopping (leave group, disconnect); generous for a loaded machine.
  assert.ok(elapsed < deliveryTimeoutMs + 15_000, `exited ${elapsed} ms after produce started failing`);
  const fatal = first.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 60);
  assert.ok(fatal, 'a fatal log line says why');
  assert.match(String(fatal.reason), /outputs of messages\/\d offsets \d+\.\.\d+ were not acknowledged within the delivery timeout/);
  const committed = await committedOffsets(boot, GROUP, 'messages');
  assert.ok([...committed.values()].every((o) => o <= 0), `nothing was committed: ${JSON.stringify(Object.fromEntries(committed))}`);

  await broker.command('clear-errors Produce');
  const second = start();
  await assertAllAnswered(boot, records.map((r) => r.id));
  assert.equal(await second.stop(), 0);
});

test('the broker going down for 3 s and coming back: records streamed before, during and after are all answered and the runtime keeps serving', { skip: skipWithoutFixtures, timeout: 90_000 }, async (t) => {
  const { broker, boot, start } = await irisRig(t, GROUP, { env: SHORT_SESSION });
  const runtime = start();
  await runtime.waitForLog((l) => l.msg === 'consuming');
  const records = irisRecords(4000);
  const feeding = feed(boot, 'messages', toKafkaMessages(records));
  await sleep(1000);
  await broker.command('down -1');
  await sleep(3000);
  await broker.command('up -1');
  await feeding;
  await assertAllAnswered(boot, records.map((r) => r.id));
  assert.ok(logged(runtime, /ECONNREFUSED|Connection error|closed connection|Connection refused/i) > 0, 'the runtime saw the outage');
  assert.equal(runtime.child.exitCode, null, 'still serving');
  assert.equal(await runtime.stop(), 0);
});

test('400 ms of added latency on every broker response slows the stream but loses nothing', { skip: skipWithoutFixtures, timeout: 90_000 }, async (t) => {
  const { broker, boot, start } = await irisRig(t, GROUP, { env: SHORT_SESSION });
  const runtime = start();
  await runtime.waitForLog((l) => l.msg === 'consuming');
  const records = irisRecords(3000);
  await broker.command('rtt -1 400');
  const feeding = feed(boot, 'messages', toKafkaMessages(records), 300, 0);
  await sleep(4000);
  await broker.command('rtt -1 0');
  await feeding;
  await assertAllAnswered(boot, records.map((r) => r.id));
  assert.equal(runtime.child.exitCode, null, 'still serving');
  assert.equal(await runtime.stop(), 0);
});

test('partition leaders of the input and output topics move between the brokers of a 3-broker cluster mid-stream: nothing is lost', { skip: skipWithoutFixtures, timeout: 90_000 }, async (t) => {
  const { broker, boot, start } = await irisRig(t, GROUP, { brokers: 3, env: SHORT_SESSION });
  const runtime = start();
  await runtime.waitForLog((l) => l.msg === 'consuming');
  const records = irisRecords(5000);
  const feeding = feed(boot, 'messages', toKafkaMessages(records));
  const moves = [
    ['leader messages 0 2', 'leader predictions 0 3', 'leader predictions 1 1'],
    ['leader predictions 2 1', 'leader messages 2 1', 'leader errors 0 2'],
    ['leader predictions 0 1', 'leader messages 1 3'],
  ];
  for (const step of moves) {
    await sleep(1200);
    for (const move of step) await broker.command(move);
  }
  await feeding;
  await assertAllAnswered(boot, records.map((r) => r.id));
  // kafkajs logs the NOT_LEADER answers; librdkafka follows the leader inside the client.
  if (RUNTIME_KAFKA_CLIENT === 'kafkajs') assert.ok(logged(runtime, /not the leader/i) > 0, 'the runtime was answered NOT_LEADER by a broker that lost leadership');
  assert.equal(runtime.child.exitCode, null, 'still serving');
  assert.equal(await runtime.stop(), 0);
});
