import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { processBatch } from '../../runtime/engine/batch.js';
import type { InputMessage } from '../../runtime/engine/messages.js';
import { RuntimeMetrics } from '../../runtime/http/metrics.js';
import { createLogger } from '../../runtime/log.js';
import { ModelStore } from '../../runtime/packages/store.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { IRIS_PACKAGE, installIrisPackage, irisRecords } from '../helpers/iris.js';
import { metricsOverStore } from '../helpers/metrics-store.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const topics = { predictions: 'preds', errors: 'errs' };
const limits = { maxMessageBytes: 64, errorRawMaxBytes: 100 };
const log = createLogger('silent');

function messages(values: Array<string | null>, partition: number, firstOffset: number, timestamp: number): InputMessage[] {
  return values.map((v, i) => ({
    topic: 'in',
    partition,
    offset: String(firstOffset + i),
    key: null,
    value: v === null ? null : Buffer.from(v),
    timestamp: String(timestamp),
  }));
}

test('error codes, records out, batch sizes and lag add up across slices, in a registry of each instance\'s own', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-metrics-'));
  const store = new ModelStore(work, builtinRegistry(), log, { watch: false });
  await store.start();
  const a = new RuntimeMetrics(store);
  const b = new RuntimeMetrics(store);
  t.after(async () => {
    a.close();
    b.close();
    await store.close();
    rmSync(work, { recursive: true, force: true });
  });

  // No package is loaded: every record is NO_MODEL (without a package there is no decoder to judge it by).
  const slice1 = messages(['{"id":1}', '{"id":2}', 'not json', null, `{"id":"${'x'.repeat(80)}"}`], 0, 40, Date.now() - 2000);
  const slice2 = messages(['{"id":3}'], 1, 7, Date.now() - 500);
  a.observeSlice(await processBatch(slice1, undefined, limits, topics), slice1, 12, '100');
  a.observeSlice(await processBatch(slice2, undefined, limits, topics), slice2, 3, '8');

  const m = parsePrometheusText(await a.registry.metrics());
  assert.equal(sampleValue(m, 'mlstream_records_in_total', { topic: 'in' }), 6);
  assert.equal(sampleValue(m, 'mlstream_records_out_total', { topic: 'errs', outcome: 'error' }), 6);
  assert.equal(sampleValue(m, 'mlstream_records_out_total', { outcome: 'prediction' }), undefined, 'no prediction was written');
  assert.equal(sampleValue(m, 'mlstream_errors_total', { code: 'NO_MODEL' }), 6);
  assert.equal(sampleValue(m, 'mlstream_errors_total', { code: 'DECODE_ERROR' }), 0);
  assert.equal(sampleValue(m, 'mlstream_errors_total', { code: 'SCHEMA_VIOLATION' }), 0, 'every code is exposed from the start, so rates work');
  assert.equal(sampleValue(m, 'mlstream_batch_size_count'), 2);
  assert.equal(sampleValue(m, 'mlstream_batch_size_sum'), 6);
  assert.equal(sampleValue(m, 'mlstream_batch_size_bucket', { le: '1' }), 1);
  assert.equal(sampleValue(m, 'mlstream_batch_size_bucket', { le: '5' }), 2);
  assert.ok(Math.abs(sampleValue(m, 'mlstream_batch_duration_seconds_sum')! - 0.015) < 1e-12);
  // Slice 1 ended at offset 44, the partition ends at 100: 55 records behind; slice 2 caught up.
  assert.equal(sampleValue(m, 'mlstream_consumer_lag', { topic: 'in', partition: '0' }), 55);
  assert.equal(sampleValue(m, 'mlstream_consumer_lag', { topic: 'in', partition: '1' }), 0);
  assert.equal(sampleValue(m, 'mlstream_end_to_end_latency_seconds_count'), 6);
  assert.ok(sampleValue(m, 'mlstream_end_to_end_latency_seconds_bucket', { le: '0.25' })! <= 1, 'five records were two seconds old');
  assert.equal(sampleValue(m, 'mlstream_end_to_end_latency_seconds_bucket', { le: '5' }), 6);
  assert.equal(m.get('mlstream_model_loaded')!.samples.length, 0);
  assert.ok(m.has('process_cpu_user_seconds_total'), 'process metrics are exposed too');

  const other = parsePrometheusText(await b.registry.metrics());
  assert.equal(sampleValue(other, 'mlstream_records_in_total', { topic: 'in' }), undefined, 'the second instance counted nothing');
});

test('model versions loaded, reloads and refusals follow the model store', { skip: skipWithoutFixtures, timeout: 60_000 }, async (t) => {
  const { work, store, metrics } = await metricsOverStore(t, installIrisPackage, { settleMs: 100 });
  const scrape = async () => parsePrometheusText(await metrics.registry.metrics());
  const first = store.current()!;
  let m = await scrape();
  assert.equal(sampleValue(m, 'mlstream_model_loaded', { model: IRIS_PACKAGE, version: first.version, serving: 'true' }), 1);
  assert.equal(sampleValue(m, 'mlstream_model_loads_total', { model: IRIS_PACKAGE }), 1);
  assert.equal(sampleValue(m, 'mlstream_model_reloads_total', { model: IRIS_PACKAGE }), undefined);

  const slice = irisRecords(30).map((r, i) => ({ topic: 'in', partition: 0, offset: String(i), key: null, value: Buffer.from(JSON.stringify(r.input)), timestamp: String(Date.now()) }));
  metrics.observeSlice(await processBatch(slice, first, { maxMessageBytes: 1 << 20, errorRawMaxBytes: 100 }, topics), slice, 5, '30');
  m = await scrape();
  assert.equal(sampleValue(m, 'mlstream_records_out_total', { topic: 'preds', outcome: 'prediction' }), 30);
  const tag = `${IRIS_PACKAGE}@${first.version}`;
  assert.equal(sampleValue(m, 'mlstream_pipeline_duration_seconds_count', { model: tag }), 1);
  const stages = m.get('mlstream_stage_duration_seconds')!.samples.filter((s) => s.name.endsWith('_count')).map((s) => s.labels.class);
  assert.deepEqual(stages.sort(), ['org.apache.spark.ml.classification.NaiveBayesModel', 'org.apache.spark.ml.feature.VectorAssembler']);

  // A changed package is a new version; a broken one is refused and the previous keeps serving.
  const configFile = join(work, IRIS_PACKAGE, 'config.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  writeFileSync(configFile, JSON.stringify({ ...config, output_labels: { '0': 'Setosa', '1': 'Versicolor', '2': 'Virginica' } }));
  await waitUntil(() => store.current()?.version !== first.version);
  const second = store.current()!;
  writeFileSync(configFile, '{ broken');
  await waitUntil(() => store.allRefusals().length > 0);
  m = await scrape();
  assert.equal(sampleValue(m, 'mlstream_model_loads_total', { model: IRIS_PACKAGE }), 2);
  assert.equal(sampleValue(m, 'mlstream_model_reloads_total', { model: IRIS_PACKAGE }), 1);
  assert.equal(sampleValue(m, 'mlstream_model_refusals_total', { model: IRIS_PACKAGE }), 1);
  assert.equal(sampleValue(m, 'mlstream_model_loaded', { model: IRIS_PACKAGE, version: second.version, serving: 'true' }), 1);
  assert.equal(sampleValue(m, 'mlstream_model_loaded', { version: first.version }), undefined, 'the replaced version is gone');
});

async function waitUntil(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the worker pool\'s shares by thread, read from the pool at each scrape and only ever going up', async (t) => {
  const { metrics } = await metricsOverStore(t, () => undefined, { watch: false });
  const scrape = async (): Promise<number[]> => {
    const m = parsePrometheusText(await metrics.registry.metrics());
    return ['workers', 'main', 'shared'].map((thread) => sampleValue(m, 'mlstream_pool_shares_total', { thread })!);
  };
  assert.deepEqual(await scrape(), [0, 0, 0], 'exposed before any pool is watched');
  const runs = { workers: 0, main: 0, shared: 0 };
  metrics.watchPool(runs);
  runs.workers = 7;
  runs.main = 1;
  runs.shared = 3;
  assert.deepEqual(await scrape(), [7, 1, 3]);
  // A worker that failed a run gives it back to the main thread: workers goes down by one.
  runs.workers = 6;
  runs.main = 2;
  runs.shared = 5;
  assert.deepEqual(await scrape(), [7, 2, 5], 'a counter never goes down');
  runs.workers = 9;
  assert.deepEqual(await scrape(), [9, 2, 5]);
});
