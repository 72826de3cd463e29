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
