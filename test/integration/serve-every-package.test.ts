import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { fixture, readSparkCsv, repoRoot, skipWithoutFixtures } from '../helpers/fixtures.js';
import { eventually, getJson } from '../helpers/http.js';
import { IRIS_FIELDS, irisRecords } from '../helpers/iris.js';
import { collectUntil, produceAll, type Received } from '../helpers/kafka.js';
import { IRIS_CONFIG, appendStage, tempDir, writeFixturePackage } from '../helpers/packages.js';
import { startRuntime } from '../helpers/runtime-process.js';

const HOUSING = 'jpmml33-housing-imputer-linreg';
const SENTIMENT = 'jpmml33-sentiment-lsvc';

/** Every key seen exactly once; returns them by key. */
function once(seen: readonly Received[], keys: readonly string[]): Map<string, Received> {
  const byKey = new Map<string, Received[]>();
  for (const r of seen) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r]);
  const out = new Map<string, Received>();
  for (const k of keys) {
    const got = byKey.get(k) ?? [];
    assert.equal(got.length, 1, `${k} came back ${got.length} times`);
    out.set(k, got[0]!);
  }
  assert.equal(seen.length, keys.length, 'no output for a record that was not sent');
  return out;
}

function housingPackage(modelsDir: string): { inputs: Record<string, unknown>[]; expected: number[] } {
  const schema = JSON.parse(readFileSync(join(fixture(HOUSING), 'sample/schema-Housing.json'), 'utf8')) as { fields: { name: string; type: string }[] };
  const fields = schema.fields.filter((f) => f.name !== 'MEDV');
  const inputSchema = Object.fromEntries(fields.map((f) => [f.name, f.type === 'integer' ? 'INTEGER' : 'DOUBLE']));
  writeFixturePackage(join(modelsDir, 'housing'), HOUSING, { input_schema: inputSchema, output_labels: {} });
  const { header, rows } = readSparkCsv(join(fixture(HOUSING), 'sample/input-Housing.csv'));
  const inputs = rows.map((r) => Object.fromEntries(fields.map((f) => [f.name, Number(r[header.indexOf(f.name)])])));
  const expected = readSparkCsv(join(fixture(HOUSING), `sample/expected-LinearRegressionHousing.csv`)).rows.map((r) => Number(r[0]));
  return { inputs, expected };
}

test(
  'three packages dropped into one models folder while records for all three flow (headers on one topic, and a package-bound topic): every id once, from the right package',
  { skip: skipWithoutFixtures, timeout: 240_000 },
  async (t) => {
    const work = tempDir('mlstream-every-');
    const models = join(work, 'models');
    const staging = join(work, 'staging');
    mkdirSync(models, { recursive: true });
    const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions', partitions: 2 }, { name: 'errors' }, { name: 'iris-in', partitions: 2 }] });
    const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, HTTP_PORT: '0', KAFKA_GROUP_ID: 'every' });
    t.after(async () => {
      await runtime.stop();
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const { port } = await runtime.waitForLog((l) => l.msg === 'http listening');
    await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);

    // The records flow first: none of their packages exists yet.
    const { header, rows } = readSparkCsv(join(fixture(SENTIMENT), 'sample/input-Sentiment.csv'));
    const spark = readSparkCsv(join(fixture(SENTIMENT), 'sample/expected-LinearSVCSentiment.csv')).rows.map((r) => r[0]!);
    const sentences = rows.slice(0, 300).map((r, i) => ({ key: `s${i}`, value: JSON.stringify({ id: `s${i}`, Sentence: r[header.indexOf('Sentence')] }), headers: { 'mlstream-model': 'sentiment' } }));
    mkdirSync(staging);
    const housing = housingPackage(staging);
    const houses = housing.inputs.slice(0, 200).map((input, i) => ({ key: `h${i}`, value: JSON.stringify({ id: `h${i}`, ...input }), headers: { 'mlstream-model': 'housing' } }));
    const irisOnnx = (prefix: string) =>
      irisRecords(150).map((r, i) => ({
        key: `${prefix}${i}`,
        value: JSON.stringify({ id: `${prefix}${i}`, ...Object.fromEntries(IRIS_FIELDS.map((f) => [f.toLowerCase(), r.input[f]])) }),
      }));
    const irisByHeader = irisOnnx('ih').map((m) => ({ ...m, headers: { 'mlstream-model': 'iris' } }));
    const irisByTopic = irisOnnx('it');
    const mixed = sentences.flatMap((s, i) => [s, ...(houses[i] ? [houses[i]] : []), ...(irisByHeader[i] ? [irisByHeader[i]] : [])]);
    await produceAll(broker.bootstrap, 'messages', mixed.slice(0, 200));
    await produceAll(broker.bootstrap, 'iris-in', irisByTopic.slice(0, 50));

    // Nothing may be drained while the packages are missing: the partitions wait.
    const waiting = await eventually('partitions to wait', async () => {
      const { body } = await getJson<{ waiting: unknown[] }>(port, '/status');
      return body.waiting.length > 0 ? body.waiting : undefined;
    });
    assert.ok(waiting.length > 0);
    assert.equal((await getJson(port, '/readyz')).status, 503, 'not ready while records wait for packages');

    // Drop the packages in, each atomically (copied beside, renamed into place).
    cpSync(fixture(SENTIMENT), join(staging, 'sentiment'), { recursive: true, filter: (src) => !src.includes('/sample') });
    writeFileSync(join(staging, 'sentiment', 'config.json'), JSON.stringify({ input_schema: { Sentence: 'STRING' }, output_labels: { '0': '0', '1': '1' } }));
    cpSync(join(repoRoot, 'model-packages/iris-onnx'), join(staging, 'iris'), { recursive: true });
    const irisConfig = JSON.parse(readFileSync(join(staging, 'iris', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(staging, 'iris', 'config.json'), JSON.stringify({ ...irisConfig, input_topic: 'iris-in' }));
    for (const name of ['sentiment', 'housing', 'iris']) renameSync(join(staging, name), join(models, name));

    await produceAll(broker.bootstrap, 'messages', mixed.slice(200));
    await produceAll(broker.bootstrap, 'iris-in', irisByTopic.slice(50));
    const keys = [...mixed, ...irisByTopic].map((m) => m.key);
    const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= keys.length, 120_000);
    const byKey = once(seen, keys);

    for (const [key, r] of byKey) {
      assert.equal(r.topic, 'predictions', `${key}: ${JSON.stringify(r.value)}`);
      const body = r.value as { model: string; version: string; prediction: unknown };
      const expectedModel = key.startsWith('s') ? 'sentiment' : key.startsWith('h') ? 'housing' : 'iris';
      assert.equal(body.model, expectedModel, `${key} was served by ${body.model}`);
      assert.equal(r.headers['mlstream-model'], `${body.model}@${body.version}`);
      if (key.startsWith('s')) assert.equal(body.prediction, spark[Number(key.slice(1))], `${key}: Spark's label`);
      if (key.startsWith('h')) {
        const want = housing.expected[Number(key.slice(1))]!;
        assert.ok(Math.abs((body.prediction as number) - want) <= 1e-9 * Math.abs(want), `${key}: ${String(body.prediction)} vs Spark's ${want}`);
      }
      if (key.startsWith('i')) assert.ok(['setosa', 'versicolor', 'virginica'].includes(body.prediction as string));
    }
    const ready = await eventually('ready', async () => ((await getJson(port, '/readyz')).status === 200 ? true : undefined));
    assert.ok(ready);
    const meta = await getJson<{ name: string; inputs: { name: string }[]; labels: Record<string, string> }>(port, '/v2/models/iris');
    assert.equal(meta.status, 200);
    assert.deepEqual(meta.body.inputs.map((i) => i.name).sort(), ['petal_length', 'petal_width', 'sepal_length', 'sepal_width']);
    assert.equal(meta.body.labels['2'], 'virginica');
    assert.equal((await getJson(port, '/v2/models/housing/ready')).status, 200);
    assert.equal((await getJson(port, '/v2/models/nothing/ready')).status, 404);
    assert.ok(!runtime.logs.some((l) => l.includes('consumer crashed')), 'the consumer never restarted');
  },
);

test(
  'a MODEL_PIPELINE naming no folder is said loudly with the packages that exist; its records wait and are served once the folder appears',
  { skip: skipWithoutFixtures, timeout: 180_000 },
  async (t) => {
    const work = tempDir('mlstream-missing-');
    const models = join(work, 'models');
    writeFixturePackage(join(models, 'iris-nb'), 'jpmml33-iris-nb', IRIS_CONFIG);
    const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
    const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, MODEL_PIPELINE: 'iris', HTTP_PORT: '0', KAFKA_GROUP_ID: 'missing' });
    t.after(async () => {
      await runtime.stop();
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const loud = await runtime.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('MODEL_PIPELINE="iris" names no package folder'));
    assert.equal(loud.level, 50);
    assert.deepEqual(loud.packages, ['iris-nb']);
    const { port } = await runtime.waitForLog((l) => l.msg === 'http listening');

    const records = irisRecords(300);
    await produceAll(broker.bootstrap, 'messages', records.map((r) => ({ key: r.id, value: JSON.stringify(r.input) })));
    const status = await eventually('both partitions to wait', async () => {
      const { body } = await getJson<{ waiting: { reason: string; offset: string }[] }>(port, '/status');
      return body.waiting.length === 2 ? body : undefined;
    });
    for (const w of status.waiting) {
      assert.match(w.reason, /the default package "iris" is not loaded/);
      assert.equal(w.offset, '0', 'nothing was committed past the first waiting record');
    }
    const ready = await getJson<{ reasons: string[] }>(port, '/readyz');
    assert.equal(ready.status, 503);
    assert.ok(ready.body.reasons.some((r) => r.includes('"iris"')), ready.body.reasons.join('; '));
    assert.equal((await getJson(port, '/healthz')).status, 200, 'waiting is not a liveness failure');
    await new Promise((r) => setTimeout(r, 1500));
    const early = await collectUntil(broker.bootstrap, ['predictions', 'errors'], () => false, 1500);
    assert.equal(early.length, 0, 'nothing was drained to errors while the package was missing');

    writeFixturePackage(join(work, '.iris'), 'jpmml33-iris-nb', IRIS_CONFIG);
    renameSync(join(work, '.iris'), join(models, 'iris'));
    const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= records.length, 60_000);
    const byKey = once(seen, records.map((r) => r.id));
    for (const r of records) {
      const got = byKey.get(r.id)!;
      assert.equal(got.topic, 'predictions');
      assert.equal((got.value as { prediction: string }).prediction, r.expectedLabel);
    }
  },
);

test(
  'a feature-only package and a package whose plugin stage throws serve side by side: every id accounted for, throws become PIPELINE_ERROR naming the stage, no consumer restart',
  { skip: skipWithoutFixtures, timeout: 180_000 },
  async (t) => {
    const work = tempDir('mlstream-throw-');
    const models = join(work, 'models');
    writeFixturePackage(join(models, 'w2v'), 'hydro21-word2vec', { input_schema: { text: 'ARRAY<STRING>' } });
    writeFixturePackage(join(models, 'iris'), 'jpmml33-iris-nb', IRIS_CONFIG);
    appendStage(join(models, 'iris'), 'mlstream.test.ThrowingStage', 'ThrowingStage_0badc0ffee00', { column: 'Sepal_Length', above: 7.5 });
    const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
    const runtime = startRuntime({
      KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
      MODELS_DIR: models,
      MODEL_PIPELINE: 'iris',
      KAFKA_GROUP_ID: 'throw',
      SLICE_SIZE: '20',
      MLSTREAM_PLUGINS: join(repoRoot, 'test/helpers/throwing-stage-plugin.ts'),
    });
    t.after(async () => {
      await runtime.stop();
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const sentences = ['Hi I heard about Spark', 'I wish Java could use case classes', 'Logistic regression models are neat'];
    const words = Array.from({ length: 90 }, (_, i) => ({ key: `w${i}`, value: JSON.stringify({ id: `w${i}`, text: sentences[i % 3]!.split(' ') }), headers: { 'mlstream-model': 'w2v' } }));
    const irises = irisRecords(300).map((r) => ({ key: r.id, value: JSON.stringify(r.input) }));
    const stream = irises.flatMap((m, i) => [m, ...(words[i] ? [words[i]] : [])]);
    await produceAll(broker.bootstrap, 'messages', stream);
    const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= stream.length, 90_000);
    const byKey = once(seen, stream.map((m) => m.key));

    let failed = 0;
    for (const [key, r] of byKey) {
      if (key.startsWith('w')) {
        assert.equal(r.topic, 'predictions', `${key}: ${JSON.stringify(r.value)}`);
        const vector = (r.value as { prediction: number[] }).prediction;
        assert.equal(vector.length, 3, 'a feature-only package predicts its last column: the 3-dimensional document vector');
        continue;
      }
      if (r.topic === 'errors') {
        failed++;
        const error = (r.value as { error: { code: string; stage?: string; message: string } }).error;
        assert.equal(error.code, 'PIPELINE_ERROR');
        assert.equal(error.stage, 'ThrowingStage_0badc0ffee00');
        assert.match(error.message, /a deliberate bug/);
      }
    }
    assert.ok(failed > 0 && failed < irises.length, `slices holding a poisoned row failed (${failed}), the others were served`);
    // The Spark docs example's first sentence vector, as Spark printed it.
    const first = (byKey.get('w0')!.value as { prediction: number[] }).prediction;
    [0.03173386193811894, 0.009443491697311401, 0.024377789348363876].forEach((v, k) => assert.ok(Math.abs(first[k]! - v) < 1e-9, `w0[${k}]`));
    assert.equal(runtime.logs.filter((l) => l.includes('"msg":"joined consumer group"')).length, 1, 'the consumer joined once and never restarted');
    assert.ok(!runtime.logs.some((l) => l.includes('consumer crashed')));
  },
);
