// Model classes whose outputs are not plain numbers, served over the local broker as a user
// runs them: ALSModel's float32 ratings and COLD_START error records, and FPGrowthModel's
// array predictions, each message checked against the published schemas.
//   node --import tsx --test test/integration/serve-catalogue-models.test.ts
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Ajv } from 'ajv';
import errorSchema from '../../schemas/error.schema.json' with { type: 'json' };
import predictionSchema from '../../schemas/prediction.schema.json' with { type: 'json' };
import { startLocalBroker } from '../../scripts/broker/index.js';
import { readCsv } from '../conformance/csv.js';
import { collectUntil, produceAll, type Received } from '../helpers/kafka.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';
import { catalogueFixture, skipWithoutCatalogue } from '../unit/spark/catalogue-package.js';

/** Serves one catalogue fixture under `name`, feeds it `records` and returns one output per key. */
async function serveOverKafka(
  t: TestContext,
  fixtureName: string,
  config: object,
  records: Array<{ key: string; value: Record<string, unknown> }>,
): Promise<Map<string, Received>> {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-models-e2e-'));
  const modelDir = join(work, 'models', 'model');
  cpSync(catalogueFixture(fixtureName), modelDir, { recursive: true, filter: (src) => !src.includes('/sample') });
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify(config));
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  await produceAll(broker.bootstrap, 'messages', records.map((r) => ({ key: r.key, value: JSON.stringify({ id: r.key, ...r.value }) })));
  runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), MODEL_PIPELINE: 'model', KAFKA_GROUP_ID: 'models-e2e' });
  await runtime.waitForLog((l) => l.msg === 'model package serving', 60_000);
  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= records.length, 90_000);
  assert.equal(seen.length, records.length, 'one output per input');

  const ajv = new Ajv({ strict: false, allowUnionTypes: true });
  const validPrediction = ajv.compile(predictionSchema);
  const validError = ajv.compile(errorSchema);
  for (const r of seen) {
    const ok = r.topic === 'predictions' ? validPrediction(r.value) : validError(r.value);
    assert.ok(ok, `${r.topic} message does not match its schema: ${JSON.stringify(r.value)}`);
  }
  assert.equal(await runtime.stop(), 0);
  runtime = undefined;
  return new Map(seen.map((r) => [r.key ?? '', r]));
}

test('ALSModel over Kafka: ratings equal Spark\'s as float32, a cold pair is a COLD_START error record', { skip: skipWithoutCatalogue, timeout: 180_000 }, async (t) => {
  const dir = catalogueFixture('sree-movielens-als');
  const input = readCsv(join(dir, 'sample/input-test-uncapped-first5000.csv')).rows.slice(0, 200);
  const expected = readCsv(join(dir, 'sample/expected-test-uncapped-first5000.csv')).rows.slice(0, 200);
  const records = input.map(([u, m], i) => ({ key: `r${i}`, value: { userId: Number(u), movieId: Number(m) } }));
  records.push({ key: 'cold', value: { userId: 27, movieId: 987654321 } });
  const out = await serveOverKafka(t, 'sree-movielens-als', { input_schema: { userId: 'INTEGER', movieId: 'INTEGER' } }, records);

  expected.forEach((row, i) => {
    const r = out.get(`r${i}`)!;
    assert.equal(r.topic, 'predictions', JSON.stringify(r.value));
    assert.equal((r.value as { prediction: number }).prediction, Math.fround(Number(row[0])), `r${i}`);
  });
  const cold = out.get('cold')!;
  assert.equal(cold.topic, 'errors');
  assert.equal((cold.value as { error: { code: string } }).error.code, 'COLD_START');
});

test('FPGrowthModel over Kafka: a basket\'s prediction is an array of items it does not hold', { skip: skipWithoutCatalogue, timeout: 180_000 }, async (t) => {
  const records = [
    { key: 'b1', value: { items: ['softdrink', 'fruitveg'] } },
    { key: 'b2', value: { items: ['beer'] } },
    { key: 'b3', value: { items: [] } },
  ];
  const out = await serveOverKafka(t, 'jpmml35-shopping-fpgrowth', { input_schema: { items: 'ARRAY<STRING>' } }, records);
  for (const { key, value } of records) {
    const r = out.get(key)!;
    assert.equal(r.topic, 'predictions', JSON.stringify(r.value));
    const prediction = (r.value as { prediction: string[] }).prediction;
    assert.ok(Array.isArray(prediction), JSON.stringify(r.value));
    assert.ok(prediction.every((item) => typeof item === 'string' && !value.items.includes(item)), JSON.stringify(prediction));
  }
  assert.ok(((out.get('b1')!.value as { prediction: string[] }).prediction).length > 0, 'a basket of two frequent items fires rules');
  assert.deepEqual((out.get('b3')!.value as { prediction: string[] }).prediction, []);
});
