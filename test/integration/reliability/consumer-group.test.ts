import assert from 'node:assert/strict';
import { test } from 'node:test';
import { account, committedOffsets, readAll, summary, waitUntilCommitted } from '../../helpers/delivery.js';
import { skipWithoutFixtures } from '../../helpers/fixtures.js';
import { irisRecords, toKafkaMessages } from '../../helpers/iris.js';
import { produceAll } from '../../helpers/kafka.js';
import type { RuntimeProcess } from '../../helpers/runtime-process.js';
import { irisRig } from '../../helpers/served-iris.js';

// A short session: the local broker holds every rebalance for the session timeout less 1 s.
const SHORT_SESSION = { KAFKA_SESSION_TIMEOUT_MS: '3000' };
const GROUP = 'shared';

type LogLine = Record<string, unknown>;

function lines(rt: RuntimeProcess): LogLine[] {
  return rt.logs.flatMap((l) => {
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });
}

/** Partitions of `messages` in the instance's latest assignment. */
function assigned(rt: RuntimeProcess): number[] {
  const joins = lines(rt).filter((l) => l.msg === 'joined consumer group');
  const last = joins[joins.length - 1]?.assignment as Record<string, number[]> | undefined;
  return [...(last?.messages ?? [])].sort();
}

/** Records the instance committed, from its last log line. */
function processed(rt: RuntimeProcess): number {
  const stopped = lines(rt).find((l) => l.msg === 'runner stopped');
  return Number(stopped?.records ?? 0);
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('two runtime processes in one consumer group split 3 partitions: every id is answered exactly once and both instances did part of the work', { skip: skipWithoutFixtures, timeout: 90_000 }, async (t) => {
  const { boot, start } = await irisRig(t, GROUP, { env: SHORT_SESSION });
  const a = start({ KAFKA_CLIENT_ID: 'instance-a' });
  await a.waitForLog((l) => l.msg === 'joined consumer group');
  const b = start({ KAFKA_CLIENT_ID: 'instance-b' });
  const split = (): boolean => assigned(a).length > 0 && assigned(b).length > 0 && [...assigned(a), ...assigned(b)].sort().join() === '0,1,2';
  // Settled: the split holds across a second look, so no rebalance is still under way.
  await until(async () => split() && (await new Promise((r) => setTimeout(r, 1500))) === undefined && split(), 45_000, 'both instances to hold a share of the partitions');

  const records = irisRecords(6000);
  await produceAll(boot, 'messages', toKafkaMessages(records));
  await waitUntilCommitted(boot, GROUP, 'messages', 60_000);
  const outputs = await readAll(boot, ['predictions', 'errors']);
  const report = account(records.map((r) => r.id), outputs);
  assert.deepEqual(report.missing, [], summary(report));
  assert.equal(report.duplicates, 0, summary(report));

  assert.equal(await a.stop(), 0);
  assert.equal(await b.stop(), 0);
  assert.ok(processed(a) > 0 && processed(b) > 0, `instance a processed ${processed(a)}, b ${processed(b)}`);
  assert.equal(processed(a) + processed(b), records.length, 'each record was processed by exactly one instance');
  const bySource = new Set(outputs.map((o) => o.source.partition));
  assert.deepEqual([...bySource].sort(), [0, 1, 2]);
});

test('a second instance joining while a slow slice is in flight, then leaving with SIGTERM: nothing is lost, duplicates stay within one slice per rebalance, both exit 0', { skip: skipWithoutFixtures, timeout: 120_000 }, async (t) => {
  // Slices of 250 records, set here: with the default (1000) the stream would be six slices long.
  const { boot, start } = await irisRig(t, GROUP, { slowStageMs: 500, env: { ...SHORT_SESSION, SLICE_SIZE: '250' } });
  // About 24 slices of 0.5 s: the stream lasts well past the second instance's start and the
  // rebalance, even though one fetch can bring a partition's whole backlog.
  const records = irisRecords(6000);
  await produceAll(boot, 'messages', toKafkaMessages(records));
  const committedTotal = async (): Promise<number> => [...(await committedOffsets(boot, GROUP, 'messages')).values()].reduce((s, o) => s + Math.max(0, o), 0);

  const a = start({ KAFKA_CLIENT_ID: 'instance-a' });
  await until(async () => (await committedTotal()) > 0, 60_000, 'the first slice to be committed');
  // Every slice takes 0.5 s in the pipeline: the next one is in flight now.
  const b = start({ KAFKA_CLIENT_ID: 'instance-b' });
  await until(() => assigned(b).length > 0, 30_000, 'the second instance to get partitions');
  const atJoin = await committedTotal();
  assert.ok(atJoin < records.length, 'the join came mid-stream');
  const ofB = assigned(b);
  const atJoinOfB = await committedOffsets(boot, GROUP, 'messages');
  await until(async () => {
    const now = await committedOffsets(boot, GROUP, 'messages');
    return ofB.some((p) => (now.get(p) ?? -1) > (atJoinOfB.get(p) ?? -1));
  }, 30_000, 'the second instance to commit a slice of its own');
  assert.equal(await b.stop(), 0, `the second instance leaves cleanly; its last log lines:\n${b.logs.slice(-20).join('\n')}`);
  assert.ok(processed(b) > 0, 'the second instance did some of the work');

  await waitUntilCommitted(boot, GROUP, 'messages', 90_000);
  const outputs = await readAll(boot, ['predictions', 'errors']);
  const report = account(records.map((r) => r.id), outputs);
  assert.deepEqual(report.missing, [], summary(report));

  // Precise duplicate check: an input answered twice must lie in a slice whose commit a
  // rebalance refused (each instance logs those slices), once per such refusal.
  const refused = [...lines(a), ...lines(b)]
    .filter((l) => String(l.msg).startsWith('commit refused by a rebalance'))
    .map((l) => /^messages\/(\d+) offsets (\d+)\.\.(\d+)$/.exec(String(l.slice))!)
    .map(([, p, from, to]) => ({ partition: Number(p), from: Number(from), to: Number(to) }));
  const copies = new Map<string, number>();
  for (const o of outputs) copies.set(`${o.source.partition}/${o.source.offset}`, (copies.get(`${o.source.partition}/${o.source.offset}`) ?? 0) + 1);
  for (const [k, n] of copies) {
    if (n === 1) continue;
    const [p, offset] = k.split('/').map(Number) as [number, number];
    const covering = refused.filter((r) => r.partition === p && offset >= r.from && offset <= r.to).length;
    assert.ok(n - 1 <= covering, `messages/${k} answered ${n} times, but covered by ${covering} refused slice(s)`);
  }
  // Partitions are consumed concurrently (KAFKA_PARTITIONS_CONCURRENTLY defaults to at least 4): when a
  // rebalance starts an instance has at most one slice in flight per partition (3 here), and starts no
  // other until it has rejoined.
  const rebalances = (rt: RuntimeProcess): number => lines(rt).filter((l) => l.msg === 'joined consumer group').length;
  assert.ok(refused.length <= 3 * (rebalances(a) + rebalances(b)), `${refused.length} slices refused in ${rebalances(a)} + ${rebalances(b)} joins`);
  // The second rejoin follows the second instance's leaving; the local broker may hold it up to the session timeout.
  await until(async () => rebalances(a) >= 3, 15_000, 'the first instance to rejoin on both rebalances');
  assert.equal(await a.stop(), 0);
  t.diagnostic(`a processed ${processed(a)}, b ${processed(b)}; ${report.duplicates} duplicates from ${refused.length} refused slices`);
});
