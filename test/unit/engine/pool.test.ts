import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { InputMessage } from '../../../runtime/engine/messages.js';
import { planFor, type PlanRun } from '../../../runtime/engine/plan.js';
import { WorkerPool } from '../../../runtime/engine/pool.js';
import { pack, unpack } from '../../../runtime/engine/pool-protocol.js';
import { loadPackage, type ModelVersion } from '../../../runtime/packages/package.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { threadCpuSeconds } from '../../../scripts/bench/child.js';
import { repoRoot } from '../../helpers/fixtures.js';

/*
 * The worker pool against the shipped packages: a version's share of a slice run on a worker
 * thread gives exactly what the same plan gives on the main thread — predictions, error
 * records (malformed JSON, schema violations, null and oversized values), keys, headers and
 * the prediction records — and a version the pool no longer has runs on the main thread.
 */

const log = pino({ level: 'silent' });
const limits = { maxMessageBytes: 600, errorRawMaxBytes: 64, errorRecordMaxBytes: 16_384 };
const topics = { predictions: 'predictions', errors: 'errors' };
const pools: WorkerPool[] = [];
const models: ModelVersion[] = [];
after(async () => {
  for (const p of pools) await p.close();
  for (const m of models) await m.pipeline.dispose();
});

/** Text records, every kind of bad one among them, taken from a Kafka fetch as kafkajs gives it (views into one buffer). */
function slice(): { messages: InputMessage[]; positions: number[] } {
  const values: (string | null)[] = [
    '{"id":"a","text":"Subject: meeting tomorrow at ten, agenda attached"}',
    '{"id":"b","text":"WIN A FREE VACATION!!! Click here now to claim your prize $$$"}',
    '{"id":"c","text":"Grüße aus Köln — the KELVIN SIGN \u212a and Ünïcödé tokens go the general way"}',
    '{"id":"d","text":',
    '{"id":"e","text":42}',
    null,
    `{"id":"f","text":"${'x'.repeat(700)}"}`,
    '{"id":"g","text":""}',
    '{"id":"h","text":"   spaced    out\\ttext\\nwith  runs  "}',
  ];
  const fetch = Buffer.from(values.map((v) => v ?? '').join(''));
  let at = 0;
  const messages = values.map((v, i): InputMessage => {
    const value = v === null ? null : fetch.subarray(at, at + Buffer.byteLength(v));
    at += v === null ? 0 : Buffer.byteLength(v);
    return { topic: 'messages', partition: 3, offset: String(100 + i), key: i % 3 === 0 ? null : Buffer.from(`key-${i}`), value, timestamp: String(1_700_000_000_000 + i) };
  });
  // Positions as the engine hands out a version's share: not 0..n-1 when the slice mixes versions.
  return { messages, positions: messages.map((_, i) => 2 * i + 1) };
}

/** A shipped package loaded here and in a one-worker pool, once the worker has it. */
async function loadedPool(name: string, options: { wantRecords: boolean; offloadMinUsPerRecord: number; mainShare?: number; cheapHomeLoad?: number }): Promise<{ model: ModelVersion; pool: WorkerPool }> {
  const model = await loadPackage(join(repoRoot, 'model-packages', name), builtinRegistry());
  models.push(model);
  const pool = new WorkerPool({ size: 1, plugins: [], log, ...options });
  pools.push(pool);
  pool.sync([model]);
  assert.equal(await pool.whenLoaded(model), true, 'the worker loaded the version');
  return { model, pool };
}

const comparable = (run: PlanRun): unknown => ({ predictions: run.predictions, errors: run.errors, records: run.records, errorsByCode: run.errorsByCode });

for (const name of ['spam-text', 'spam-text-onnx']) {
  test(`${name}: a share run on a worker equals the same share run on the main thread, outputs, errors and keys included`, { timeout: 120_000 }, async () => {
    const { model, pool } = await loadedPool(name, { wantRecords: true, offloadMinUsPerRecord: 0 });
    const { messages, positions } = slice();
    const plan = planFor(model);
    const here = await plan.run(messages, positions, topics, limits);
    // The first run has no cost estimate yet, so it runs here; the next one goes to the worker.
    await pool.run(plan, messages, positions, topics, limits);
    assert.deepEqual(pool.runs, { workers: 0, main: 1, shared: 0 });
    const there = await pool.run(plan, messages, positions, topics, limits);
    assert.deepEqual(pool.runs, { workers: 1, main: 1, shared: 0 });

    assert.deepEqual(comparable(there), comparable(here));
    assert.equal(here.predictions.length, 5);
    assert.deepEqual(here.errorsByCode, { DECODE_ERROR: 2, SCHEMA_VIOLATION: 1, MESSAGE_TOO_LARGE: 1 });
    for (const o of [...there.predictions, ...there.errors]) {
      const k = positions.indexOf(o.position);
      assert.deepEqual(o.key, messages[k]!.key, `the output at position ${o.position} carries its input's key`);
    }

    // Unloaded from the pool: the next share runs on the main thread, with the same answer.
    pool.sync([]);
    const after = await pool.run(plan, messages, positions, topics, limits);
    assert.deepEqual(pool.runs, { workers: 1, main: 2, shared: 0 });
    assert.deepEqual(comparable(after), comparable(here));
  });
}

test('pack buffers come back from the worker and are filled again: each share still gets its own values', { timeout: 120_000 }, async () => {
  const { model, pool } = await loadedPool('spam-text', { wantRecords: true, offloadMinUsPerRecord: 0 });
  const plan = planFor(model);
  const { messages, positions } = slice();
  await pool.run(plan, messages, positions, topics, limits); // on the main thread: it teaches the pool the cost
  // Shares of different sizes and contents, each on the worker after the one before it: a
  // smaller share reuses a larger buffer (old bytes past its own), a larger one may need a new one.
  // (A new buffer has room for at least 64 KiB: the slice repeated 80 times is about 100 KiB.)
  const shares = [messages, messages.slice(5), messages.slice(0, 3).reverse(), Array.from({ length: 80 }, () => messages).flat(), messages.slice(6, 8)];
  for (const [n, share] of shares.entries()) {
    const at = share.map((_, k) => 10 * k);
    const here = await plan.run(share, at, topics, limits);
    const there = await pool.run(plan, share, at, topics, limits);
    assert.equal(pool.runs.workers, n + 1);
    assert.deepEqual(comparable(there), comparable(here), `share ${n}`);
  }
  // One buffer went round for the first three shares and the fifth; the large share needed a second.
  assert.equal(pool.sparesKept, 2);
});

test('values in shared memory (kafkajs fetch responses) go to the worker uncopied; values in two buffers are packed as before; the answers are the same', { timeout: 120_000 }, async () => {
  const { model, pool } = await loadedPool('spam-text', { wantRecords: true, offloadMinUsPerRecord: 0 });
  const plan = planFor(model);
  const { messages, positions } = slice();
  /** The slice's values moved into shared memory: one SharedArrayBuffer, or each value into one of two by parity. */
  const intoShared = (split: boolean): InputMessage[] => {
    const memories = [Buffer.from(new SharedArrayBuffer(16_384)), Buffer.from(new SharedArrayBuffer(16_384))];
    const at = [100, 100];
    return messages.map((m, i) => {
      if (m.value === null) return m;
      const which = split ? i % 2 : 0;
      const view = memories[which]!.subarray(at[which], at[which]! + m.value.length);
      m.value.copy(view);
      at[which]! += m.value.length + 7;
      return { ...m, value: view };
    });
  };
  const one = intoShared(false);
  const packed = pack(one);
  assert.equal(packed.packed.bytes, one[0]!.value!.buffer, 'the values\' own shared memory is what goes to the worker');
  assert.deepEqual(packed.transfer, []);
  assert.deepEqual(unpack(packed.packed).map((m) => m.value && String(m.value)), messages.map((m) => m.value && String(m.value)));
  const two = intoShared(true);
  assert.ok(pack(two).packed.bytes instanceof ArrayBuffer, 'values in two shared buffers are copied into one');
  assert.ok(pack(messages).packed.bytes instanceof ArrayBuffer);

  const here = await plan.run(messages, positions, topics, limits);
  await pool.run(plan, messages, positions, topics, limits); // on the main thread: it teaches the pool the cost
  const sparesBefore = pool.sparesKept;
  for (const [n, share] of [one, two, one].entries()) {
    const there = await pool.run(plan, share, positions, topics, limits);
    assert.equal(pool.runs.workers, n + 1);
    assert.deepEqual(comparable(there), comparable(here), `share ${n}`);
  }
  // Only the copied share's buffer came back to be reused; shared memory is not handed back.
  assert.equal(pool.sparesKept, sparesBefore + 1);
});

test('a version cheaper per record than the threshold stays on the main thread while it has room', { timeout: 120_000 }, async () => {
  // A load share above 1 is never reached: the main thread always has room.
  const { model, pool } = await loadedPool('spam-text', { wantRecords: false, offloadMinUsPerRecord: 1e9, cheapHomeLoad: 2 });
  const { messages, positions } = slice();
  for (let i = 0; i < 3; i++) await pool.run(planFor(model), messages, positions, topics, limits);
  assert.deepEqual(pool.runs, { workers: 0, main: 3, shared: 0 });
});

test('a cheap version goes to the worker once the main thread is busy, with the same outputs', { timeout: 120_000 }, async () => {
  // A load share of 0 is always reached: the main thread counts as busy.
  const { model, pool } = await loadedPool('spam-text', { wantRecords: true, offloadMinUsPerRecord: 1e9, cheapHomeLoad: 0 });
  const { messages, positions } = slice();
  const plan = planFor(model);
  const here = await plan.run(messages, positions, topics, limits);
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await pool.run(plan, messages, positions, topics, limits));
  // The first run measures the version here; the others go to the idle worker.
  assert.deepEqual(pool.runs, { workers: 2, main: 1, shared: 0 });
  for (const run of runs) assert.deepEqual(comparable(run), comparable(here));
  // Up to eight at once go to the worker (a cheap share is quick there); a ninth stays here.
  const many = await Promise.all(Array.from({ length: 9 }, () => pool.run(plan, messages, positions, topics, limits)));
  assert.deepEqual(pool.runs, { workers: 10, main: 2, shared: 0 });
  for (const run of many) assert.deepEqual(comparable(run), comparable(here));
});

test('prediction records are built only when a sink or the dashboard wants them, on either thread', { timeout: 120_000 }, async () => {
  const { messages, positions } = slice();
  for (const offloadMinUsPerRecord of [1e9, 0]) {
    const { model, pool } = await loadedPool('spam-text', { wantRecords: false, offloadMinUsPerRecord, cheapHomeLoad: 2 });
    const plan = planFor(model);
    const wanted = await plan.run(messages, positions, topics, limits);
    await pool.run(plan, messages, positions, topics, limits); // the first run teaches the pool the version's cost
    const unwanted = await pool.run(plan, messages, positions, topics, limits);
    assert.ok(wanted.records.length > 0 && wanted.records.length === wanted.predictions.length);
    assert.equal(unwanted.records.length, 0);
    assert.deepEqual(pool.runs, offloadMinUsPerRecord === 0 ? { workers: 1, main: 1, shared: 0 } : { workers: 0, main: 2, shared: 0 });
    // Everything that goes to Kafka is the same either way.
    assert.deepEqual(comparable({ ...unwanted, records: [] }), comparable({ ...wanted, records: [] }));
  }
});

test('a worker that dies mid-run: its share runs again on the main thread, and another worker starts', { timeout: 120_000 }, async () => {
  const { model, pool } = await loadedPool('spam-text', { wantRecords: true, offloadMinUsPerRecord: 0 });
  // A share big enough (about 0.1 s of work) that the worker is still on it when it is
  // killed: with the nine-record slice the worker sometimes answered first (seen once in a
  // full suite on a loaded machine), and then nothing died mid-run.
  const one = slice();
  const copies = 300;
  const messages = Array.from({ length: copies }, (_, c) => one.messages.map((m) => ({ ...m, offset: String(Number(m.offset) + c * 1000) }))).flat();
  const positions = Array.from({ length: copies }, (_, c) => one.positions.map((p) => p + c * 1000)).flat();
  const plan = planFor(model);
  const here = await pool.run(plan, messages, positions, topics, limits);
  const pending = pool.run(plan, messages, positions, topics, limits);
  // Reaching into the pool: nothing outside it should be able to kill its threads.
  await (pool as unknown as { workers: { thread: { terminate(): Promise<number> } }[] }).workers[0]!.thread.terminate();
  assert.deepEqual(comparable(await pending), comparable(here));
  assert.deepEqual(pool.runs, { workers: 0, main: 2, shared: 0 });
  assert.equal(await pool.whenLoaded(model), true, 'a new worker loaded the version');
  await pool.run(plan, messages, positions, topics, limits);
  assert.deepEqual(pool.runs, { workers: 1, main: 2, shared: 0 });
});

test('work sharing: a share that would wait behind two on the busy worker runs on the main thread when it has room; with mainShare 0 it waits', { timeout: 120_000 }, async () => {
  const { messages, positions } = slice();
  // mainShare 1: the main thread always has room unless its event loop never idled (the
  // pool's load window here spans the idle waits for the worker to load the version).
  for (const mainShare of [1, 0]) {
    const { model, pool } = await loadedPool('spam-text', { wantRecords: true, offloadMinUsPerRecord: 0, mainShare });
    const plan = planFor(model);
    const here = await pool.run(plan, messages, positions, topics, limits); // the first run teaches the pool the version's cost
    // Three shares at once: the worker gets the first two, the third would wait behind both.
    const runs = await Promise.all([0, 1, 2].map(() => pool.run(plan, messages, positions, topics, limits)));
    assert.deepEqual(pool.runs, mainShare === 1 ? { workers: 2, main: 1, shared: 1 } : { workers: 3, main: 1, shared: 0 });
    for (const run of runs) assert.deepEqual(comparable(run), comparable(here), 'the same answer on either thread');
  }
});

test('each pool worker logs its OS thread id when ready: a thread of this process other than the main one, whose CPU grows while the worker runs shares (what the bench\'s "CPU by thread" reads)', { skip: process.platform === 'linux' ? false : 'needs /proc', timeout: 120_000 }, async () => {
  const lines: Array<Record<string, unknown>> = [];
  const capture = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const model = await loadPackage(join(repoRoot, 'model-packages', 'spam-text'), builtinRegistry());
  models.push(model);
  const pool = new WorkerPool({ size: 1, plugins: [], log: capture, wantRecords: false, offloadMinUsPerRecord: 0, mainShare: 0 });
  pools.push(pool);
  pool.sync([model]);
  assert.equal(await pool.whenLoaded(model), true);
  const tid = lines.find((l) => l.msg === 'pool worker ready')?.osThreadId;
  assert.ok(typeof tid === 'number' && tid !== process.pid && existsSync(`/proc/self/task/${tid}`), `osThreadId ${String(tid)}`);
  const cpuOf = (): number => threadCpuSeconds(process.pid).get(tid)!;
  const before = cpuOf();
  const plan = planFor(model);
  const { messages, positions } = slice();
  // Until the worker thread has used at least two clock ticks (10 ms each) of CPU, at most 2,000 shares.
  for (let i = 0; i < 2000 && cpuOf() - before < 0.02; i++) await pool.run(plan, messages, positions, topics, limits);
  assert.ok(pool.runs.workers > 0, 'shares ran on the worker');
  assert.ok(cpuOf() - before >= 0.02, `the worker's thread used ${cpuOf() - before} s of CPU`);
});
