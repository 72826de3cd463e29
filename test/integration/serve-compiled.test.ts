import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

/** A models folder holding spam-text and a local broker; both, and the runtime once started, go after the test. */
async function spamTextServing(t: TestContext, prefix: string, topics: NonNullable<Parameters<typeof startLocalBroker>[0]>['topics'] = [{ name: 'messages' }, { name: 'predictions' }, { name: 'errors' }]): Promise<{ models: string; broker: LocalBroker; run: { runtime?: RuntimeProcess } }> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(repoRoot, 'model-packages/spam-text'), join(work, 'models', 'spam-text'), { recursive: true });
  const broker = await startLocalBroker({ topics });
  const run: { runtime?: RuntimeProcess } = {};
  t.after(async () => {
    await run.runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  return { models: join(work, 'models'), broker, run };
}

/**
 * `mlstream serve` as a user starts it (bin/mlstream.js, running the compiled dist/) serves
 * the shipped text package, and a package without an ONNX stage never loads onnxruntime,
 * whose native library is large and slow to load.
 */
test('the compiled runtime serves spam-text and never loads onnxruntime for it', { timeout: 180_000 }, async (t) => {
  const { models, broker, run } = await spamTextServing(t, 'mlstream-compiled-', [{ name: 'messages' }, { name: 'predictions' }, { name: 'errors' }]);
  await produceAll(broker.bootstrap, 'messages', [{ key: 'm1', value: JSON.stringify({ id: 'm1', text: 'Win a FREE prize now, click here' }) }]);
  const runtime = (run.runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, KAFKA_GROUP_ID: 'compiled' }));
  const received = await collectUntil(broker.bootstrap, ['predictions'], (r) => r.length >= 1, 90_000);
  assert.equal((received[0]!.value as { id: string }).id, 'm1');
  const maps = readFileSync(`/proc/${runtime.child.pid!}/maps`, 'utf8');
  assert.doesNotMatch(maps, /onnxruntime/, 'no onnxruntime library is mapped');
});

test('the compiled runtime runs spam-text on its worker pool: every record answered once, the shares after the first on the worker', { timeout: 180_000 }, async (t) => {
  const { models, broker, run } = await spamTextServing(t, 'mlstream-pool-', [{ name: 'messages', partitions: 2 }, { name: 'predictions', partitions: 2 }, { name: 'errors' }]);
  const texts = ['Win a FREE prize now, click here', 'Minutes of the meeting attached; see you on Monday', 'CHEAP meds!!! no prescription needed', 'Re: the patch looks fine, merging'];
  const ids = Array.from({ length: 400 }, (_, i) => `r${i}`);
  const runtime = (run.runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, KAFKA_GROUP_ID: 'pool', MLSTREAM_WORKERS: '1', SLICE_SIZE: '50' }));
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
  run.runtime = undefined;
});

test('records waiting at start wait for the packages found at start to load: no pause, and no NO_MODEL error with NO_MODEL_POLICY=error', { timeout: 180_000 }, async (t) => {
  const { models, broker, run } = await spamTextServing(t, 'mlstream-start-', [{ name: 'messages' }, { name: 'predictions' }, { name: 'errors' }]);
  const ids = ['s1', 's2', 's3'];
  await produceAll(broker.bootstrap, 'messages', ids.map((id) => ({ key: id, value: JSON.stringify({ id, text: 'Win a FREE prize now, click here' }) })));
  // The group is joined and the records fetched before the package has loaded (it takes longer than the join).
  const runtime = (run.runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, KAFKA_GROUP_ID: 'start', NO_MODEL_POLICY: 'error' }));
  const received = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (r) => r.length >= ids.length, 90_000);
  assert.deepEqual(received.map((r) => `${r.topic}:${(r.value as { id: string }).id}`).sort(), ids.map((id) => `predictions:${id}`));
  const messages = runtime.logs.map((l) => (JSON.parse(l) as { msg: string }).msg);
  assert.ok(messages.includes('model packages found; loading them in the background'));
  assert.ok(!messages.some((m) => m.startsWith('partition paused')), 'no partition paused at start');
});
