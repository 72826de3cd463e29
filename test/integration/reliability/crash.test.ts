import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../../scripts/broker/index.js';
import { account, committedWith, feed, highWatermarks, kill9, openAdmin, readAll, seededRandom, summary, waitUntilCommitted, type Output } from '../../helpers/delivery.js';
import { skipWithoutFixtures } from '../../helpers/fixtures.js';
import { irisRecords, toKafkaMessages } from '../../helpers/iris.js';
import { RUNTIME_KAFKA_CLIENT, startRuntime, type RuntimeProcess } from '../../helpers/runtime-process.js';
import { irisModels, irisRuntimeEnv, type IrisModels } from '../../helpers/served-iris.js';

const RECORDS = 50_000;
const PARTITIONS = 3;
/** The runtime's SLICE_SIZE here. */
const SLICE_SIZE = 500;
/** The runtime's SLICES_IN_FLIGHT here (its default; 2 passed too, on 2026-12-06): a partition's slices whose outputs may be out but not yet committed. */
const SLICES_IN_FLIGHT = 1;
/** The most records of a partition whose outputs can be out but not yet committed. */
const UNCOMMITTED = SLICE_SIZE * SLICES_IN_FLIGHT;
/**
 * The last records are held back until after the last kill, so a restarted runtime catching up
 * on a backlog cannot finish the whole stream before a kill point (the last one is at most 85%
 * of the input; this keeps 10% unwritten until then).
 */
const HELD_BACK = 5_000;
const GROUP = 'crash';
/**
 * Kill points, as fractions of the input committed: early, middle, late. The middle one
 * comes while producing fails (the broker answers NOT_LEADER_FOR_PARTITION), when a slice's
 * outputs are the furthest from acknowledged: a runner committing before its outputs are
 * acknowledged loses that slice there.
 */
const KILL_POINTS: Array<{ from: number; to: number; duringProduceOutage?: boolean }> = [
  { from: 0.05, to: 0.25 },
  { from: 0.35, to: 0.55, duringProduceOutage: true },
  { from: 0.65, to: 0.85 },
];

test(
  'kill -9 at random points while 50k records stream: after restarts every id is in predictions ∪ errors, and the only duplicates are offsets at or after the committed offset at a kill, within the slices in flight',
  { skip: skipWithoutFixtures, timeout: 150_000 },
  async (t) => {
    const seed = Number(process.env.MLSTREAM_TEST_SEED ?? Date.now() % 1_000_000);
    t.diagnostic(`seed ${seed} (replay with MLSTREAM_TEST_SEED=${seed})`);
    const random = seededRandom(seed);

    const broker: LocalBroker = await startLocalBroker({
      topics: [{ name: 'messages', partitions: PARTITIONS }, { name: 'predictions', partitions: PARTITIONS }, { name: 'errors' }],
    });
    const boot = broker.brokers[0]!;
    const models: IrisModels = irisModels();
    const admin = await openAdmin(boot);
    let runtime: RuntimeProcess | undefined;
    t.after(async () => {
      await runtime?.stop();
      await admin.disconnect();
      await broker.stop();
      models.cleanup();
    });

    const records = irisRecords(RECORDS);
    // The input streams in while the runtime works (about 5000 records a second); the held-back
    // tail follows the last kill.
    const messages = toKafkaMessages(records);
    const feeding = feed(boot, 'messages', messages.slice(0, RECORDS - HELD_BACK), 500, 100);
    // A short session lets a restarted instance take over from the killed one quickly.
    const env = irisRuntimeEnv(broker.bootstrap, models.modelsDir, GROUP, { KAFKA_SESSION_TIMEOUT_MS: '3000', SLICE_SIZE: String(SLICE_SIZE), SLICES_IN_FLIGHT: String(SLICES_IN_FLIGHT) });

    const committedAtKill: Array<Map<number, number>> = [];
    for (const point of KILL_POINTS) {
      runtime = startRuntime(env);
      const target = Math.floor(RECORDS * (point.from + random() * (point.to - point.from)));
      await waitForProgress(admin, target, 60_000);
      if (point.duringProduceOutage) {
        // Only the output partitions fail, for about 3 s of retries; the input keeps streaming.
        for (let p = 0; p < PARTITIONS; p++) await broker.command(`partition-errors predictions ${p} Produce NOT_LEADER_FOR_PARTITION 6`);
        // kafkajs logs the failing requests; librdkafka retries them inside the client, unlogged.
        if (RUNTIME_KAFKA_CLIENT === 'kafkajs') await runtime.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('Failed to send messages'), 20_000);
        else await sleep(500);
        await sleep(random() * 2000);
      } else {
        await sleep(random() * 150); // lands anywhere in a slice: mid-pipeline, mid-produce, mid-commit
      }
      await kill9(runtime);
      const committed = await committedWith(admin, GROUP, 'messages');
      const total = sum(committed);
      t.diagnostic(`killed at ${total} of ${RECORDS} committed (target ${target}): ${JSON.stringify(Object.fromEntries(committed))}`);
      committedAtKill.push(committed);
    }

    await feeding;
    await feed(boot, 'messages', messages.slice(RECORDS - HELD_BACK), 500, 100);
    runtime = startRuntime(env);
    await waitUntilCommitted(boot, GROUP, 'messages', 90_000);
    assert.equal(await runtime.stop(), 0);

    const outputs = await readAll(boot, ['predictions', 'errors']);
    const report = account(records.map((r) => r.id), outputs);
    assert.deepEqual(report.missing, [], summary(report));

    for (const o of outputs) {
      assert.equal(o.topic, 'predictions', `${o.key} went to errors: ${JSON.stringify(o.value)}`);
      assert.equal(o.value.id, o.key, 'the output is keyed like its input');
      assert.equal(o.source.topic, 'messages');
      assert.match(o.headers['mlstream-model'] ?? '', /^iris@\w+$/);
    }

    // Precise duplicate check: a copy beyond the first is allowed only for an input offset
    // that was at or after the group's committed offset at some kill, within the slices in flight after it.
    const copies = new Map<string, Output[]>();
    for (const o of outputs) {
      const k = `${o.source.partition}/${o.source.offset}`;
      copies.set(k, [...(copies.get(k) ?? []), o]);
    }
    let duplicates = 0;
    for (const [k, list] of copies) {
      if (list.length === 1) continue;
      const [p, offset] = k.split('/').map(Number) as [number, number];
      const windows = committedAtKill.filter((c) => {
        const from = Math.max(0, c.get(p) ?? 0);
        return offset >= from && offset < from + UNCOMMITTED;
      }).length;
      assert.ok(list.length - 1 <= windows, `input messages/${k} was answered ${list.length} times, but only ${windows} kill(s) left it uncommitted`);
      assert.ok(new Set(list.map((o) => o.key)).size === 1, `copies of messages/${k} disagree on the key`);
      duplicates += list.length - 1;
    }
    const inputs = sum(await highWatermarks(boot, 'messages'));
    assert.equal(copies.size, inputs, 'every input offset has an output');
    // Partitions are consumed concurrently (by default up to 4 at once): each may have slices out but uncommitted at a kill.
    assert.ok(duplicates <= KILL_POINTS.length * UNCOMMITTED * PARTITIONS, `${duplicates} duplicates`);
    t.diagnostic(`${outputs.length} outputs for ${RECORDS} inputs: ${duplicates} duplicates from ${KILL_POINTS.length} kills`);
  },
);

async function waitForProgress(admin: Awaited<ReturnType<typeof openAdmin>>, target: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (sum(await committedWith(admin, GROUP, 'messages')) >= target) return;
    await sleep(50);
  }
  throw new Error(`the runtime did not commit ${target} records within ${timeoutMs} ms`);
}

function sum(committed: Map<number, number>): number {
  let n = 0;
  for (const v of committed.values()) n += Math.max(0, v);
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
