import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

/**
 * `mlstream serve` as a user starts it (bin/mlstream.js, running the compiled dist/) serves
 * the shipped text package, and a package without an ONNX stage never loads onnxruntime,
 * whose native library is large and slow to load.
 */
test('the compiled runtime serves spam-text and never loads onnxruntime for it', { timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-compiled-'));
  cpSync(join(repoRoot, 'model-packages/spam-text'), join(work, 'models', 'spam-text'), { recursive: true });
  const broker = await startLocalBroker({ topics: [{ name: 'messages' }, { name: 'predictions' }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  await produceAll(broker.bootstrap, 'messages', [{ key: 'm1', value: JSON.stringify({ id: 'm1', text: 'Win a FREE prize now, click here' }) }]);
  runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), KAFKA_GROUP_ID: 'compiled' });
  const received = await collectUntil(broker.bootstrap, ['predictions'], (r) => r.length >= 1, 90_000);
  assert.equal((received[0]!.value as { id: string }).id, 'm1');
  const maps = readFileSync(`/proc/${runtime.child.pid!}/maps`, 'utf8');
  assert.doesNotMatch(maps, /onnxruntime/, 'no onnxruntime library is mapped');
});

test('the compiled runtime runs spam-text on its worker pool: every record answered once, the shares after the first on the worker', { timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-pool-'));
  cpSync(join(repoRoot, 'model-packages/spam-text'), join(work, 'models', 'spam-text'), { recursive: true });
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions', partitions: 2 }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const texts = ['Win a FREE prize now, click here', 'Minutes of the meeting attached; see you on Monday', 'CHEAP meds!!! no prescription needed', 'Re: the patch looks fine, merging'];
  const ids = Array.from({ length: 400 }, (_, i) => `r${i}`);
  runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), KAFKA_GROUP_ID: 'pool', MLSTREAM_WORKERS: '1', SLICE_SIZE: '50' });
  await runtime.waitForLog((l) => l.msg === 'pool worker loaded a package version', 90_000);
  // Several produce requests: several slices, so the pool sees more than the first (measured) share.
  for (let k = 0; k < ids.length; k += 100) {
    await produceAll(broker.bootstrap, 'messages', ids.slice(k, k + 100).map((id, i) => ({ key: id, value: JSON.stringify({ id, text: texts[i % texts.length] }) })));
  }
  const received = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (r) => r.length >= ids.length, 90_000);
  assert.deepEqual(received.map((r) => (r.value as { id: string }).id).sort(), [...ids].sort(), 'every id once');
  assert.ok(received.every((r) => r.topic === 'predictions'));
  assert.equal(await runtime.stop(), 0);
  const stopped = runtime.logs.map((l) => JSON.parse(l) as { msg: string; runs?: { workers: number; main: number } }).find((l) => l.msg === 'worker pool stopped');
  assert.ok(stopped?.runs, 'the pool reported its runs');
  assert.ok(stopped.runs.workers > 0 && stopped.runs.workers >= stopped.runs.main, `shares on the worker: ${JSON.stringify(stopped.runs)}`);
  runtime = undefined;
});

test('records waiting at start wait for the packages found at start to load: no pause, and no NO_MODEL error with NO_MODEL_POLICY=error', { timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-start-'));
  cpSync(join(repoRoot, 'model-packages/spam-text'), join(work, 'models', 'spam-text'), { recursive: true });
  const broker = await startLocalBroker({ topics: [{ name: 'messages' }, { name: 'predictions' }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const ids = ['s1', 's2', 's3'];
  await produceAll(broker.bootstrap, 'messages', ids.map((id) => ({ key: id, value: JSON.stringify({ id, text: 'Win a FREE prize now, click here' }) })));
  // The group is joined and the records fetched before the package has loaded (it takes longer than the join).
  runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), KAFKA_GROUP_ID: 'start', NO_MODEL_POLICY: 'error' });
  const received = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (r) => r.length >= ids.length, 90_000);
  assert.deepEqual(received.map((r) => `${r.topic}:${(r.value as { id: string }).id}`).sort(), ids.map((id) => `predictions:${id}`));
  const messages = runtime.logs.map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(messages.includes('model packages found; loading them in the background'));
  assert.ok(!messages.some((m) => m.startsWith('partition paused')), 'no partition paused at start');
});
