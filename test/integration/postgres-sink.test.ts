import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { ConfigError, loadConfig } from '../../runtime/config.js';
import { processBatch } from '../../runtime/engine/batch.js';
import type { InputMessage } from '../../runtime/engine/messages.js';
import { createLogger } from '../../runtime/log.js';
import { ModelStore } from '../../runtime/packages/store.js';
import { PostgresSink, quoteTableName } from '../../runtime/sinks/postgres.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../helpers/fixtures.js';
import { IRIS_FIXTURE, IRIS_PACKAGE, installIrisPackage, irisRecords, toKafkaMessages } from '../helpers/iris.js';
import { produceAll } from '../helpers/kafka.js';
import { skipWithoutPostgres, testDatabaseUrl, uniqueTableName, withClient } from '../helpers/postgres.js';
import { parsePrometheusText, sampleValue, type Family } from '../helpers/prometheus-text.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const skipPg = await skipWithoutPostgres();
const skip = skipWithoutFixtures || skipPg;
const limits = { maxMessageBytes: 1 << 20, errorRawMaxBytes: 4096 };

test('the sink table must be a plain identifier: it is quoted, and anything else is refused before any SQL exists', () => {
  assert.equal(quoteTableName('mlstream_predictions'), '"mlstream_predictions"');
  assert.equal(quoteTableName('analytics.Preds'), '"analytics"."Preds"');
  for (const bad of ['x; DROP TABLE y', 'a"b', 'a.b.c', '1abc', '', 'a b', `t${'x'.repeat(63)}`]) {
    assert.throws(() => quoteTableName(bad), /not a plain identifier/, bad);
    assert.throws(() => loadConfig({}, { PG_SINK_TABLE: bad }), (e: Error) => e instanceof ConfigError && /PG_SINK_TABLE \(--sink-table\)/.test(e.message), bad);
  }
  assert.throws(() => loadConfig({}, { PG_SINK_URL: 'mysql://db/x' }), /PG_SINK_URL \(--sink\) must be a postgres/);
  const c = loadConfig({ pgSinkUrl: 'postgres://db:5432/preds' }, {});
  assert.equal(c.pgSinkUrl, 'postgres://db:5432/preds');
  assert.equal(c.pgSinkTable, 'mlstream_predictions');
  assert.equal(loadConfig({}, {}).pgSinkUrl, undefined);
});

test("a slice written twice is stored once, with Spark's labels and probabilities, and the inputs as JSONB", { skip, timeout: 60_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-sink-'));
  const table = uniqueTableName('sink_unit');
  const log = createLogger('silent');
  const store = new ModelStore(join(work, 'models'), builtinRegistry(), log, { watch: false });
  let sink: PostgresSink | undefined;
  t.after(async () => {
    await sink?.close();
    await store.close();
    await withClient((c) => c.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`));
    rmSync(work, { recursive: true, force: true });
  });
  installIrisPackage(join(work, 'models'));
  await store.start();
  assert.ok(store.current(), 'the iris package loads');

  const records = irisRecords(150);
  // Characters PostgreSQL's text and jsonb refuse must not make the slice fail forever.
  const awkward = [
    { id: 'nul\u0000id', input: { ...records[0]!.input, id: 'nul\u0000id' } },
    { id: 'lone\ud800surrogate', input: { ...records[1]!.input, id: 'lone\ud800surrogate' } },
    { id: `quote'"\\;--`, input: { ...records[2]!.input, id: `quote'"\\;--` } },
  ];
  const producedAt = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
  const messages: InputMessage[] = [...records, ...awkward].map((r, i) => ({
    topic: 'messages',
    partition: i % 3,
    offset: String(1000 + i),
    key: Buffer.from(r.id),
    value: Buffer.from(JSON.stringify(r.input)),
    timestamp: String(producedAt),
  }));
  const result = await processBatch(messages, store.current(), limits);
  assert.equal(result.errors.length, 0, JSON.stringify(result.errors[0]));
  assert.equal(result.records.length, messages.length);

  sink = await PostgresSink.open(testDatabaseUrl(), table, log);
  assert.equal((await sink.write(result.records)).inserted, messages.length);
  assert.equal((await sink.write(result.records)).inserted, 0, 'the same offsets again add nothing');
  assert.equal((await sink.write(result.records.slice(0, 10))).inserted, 0);

  const rows = await withClient(async (c) => (await c.query(`SELECT * FROM ${quoteTableName(table)} ORDER BY source_offset`)).rows);
  assert.equal(rows.length, messages.length);

  const expected = readSparkCsv(join(fixture(IRIS_FIXTURE), 'sample/expected-NaiveBayesIris.csv'));
  const labelIndex = { setosa: 0, versicolor: 1, virginica: 2 } as Record<string, number>;
  records.forEach((r, i) => {
    const row = rows[i]!;
    assert.equal(row.id, r.id);
    assert.equal(row.label, r.expectedLabel, `${r.id}: label`);
    assert.equal(row.raw_prediction, labelIndex[r.expectedLabel], `${r.id}: raw prediction`);
    const sparkProbs = expected.rows[i]!.slice(1).map(Number);
    ['setosa', 'versicolor', 'virginica'].forEach((label, k) => {
      assert.ok(Math.abs(row.probabilities[label] - sparkProbs[k]!) < 1e-9, `${r.id}: P(${label}) ${row.probabilities[label]} vs Spark ${sparkProbs[k]}`);
    });
    assert.deepEqual(row.input, r.input);
    assert.equal(row.output.prediction, r.expectedLabel);
    assert.equal(row.model, IRIS_PACKAGE);
    assert.equal(row.version, store.current()!.version);
    assert.equal(row.source_topic, 'messages');
    assert.equal(row.source_partition, i % 3);
    assert.equal(row.source_offset, String(1000 + i));
    assert.equal((row.produced_at as Date).getTime(), producedAt);
    assert.ok(row.received_at instanceof Date);
  });
  const stored = rows.slice(records.length).map((r) => [r.id, r.input.id]);
  assert.deepEqual(stored, [
    ['nul\ufffdid', 'nul\ufffdid'],
    ['lone\ufffdsurrogate', 'lone\ufffdsurrogate'],
    [`quote'"\\;--`, `quote'"\\;--`],
  ]);
});

test('10k records streamed through the runtime become exactly 10k rows, and a replay of the same offsets adds none', { skip, timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-sink-e2e-'));
  const models = join(work, 'models');
  installIrisPackage(models);
  const table = uniqueTableName('sink_e2e');
  const broker: LocalBroker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions', partitions: 3 }, { name: 'errors' }] });
  const runtimes: RuntimeProcess[] = [];
  t.after(async () => {
    for (const r of runtimes) await r.stop();
    await broker.stop();
    await withClient((c) => c.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`));
    rmSync(work, { recursive: true, force: true });
  });

  const N = 10_000;
  const records = irisRecords(N);
  await produceAll(broker.bootstrap, 'messages', toKafkaMessages(records));
  const serve = async (groupId: string): Promise<{ runtime: RuntimeProcess; port: number }> => {
    const runtime = startRuntime({
      KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
      MODELS_DIR: models,
      MODEL_PIPELINE: IRIS_PACKAGE,
      KAFKA_GROUP_ID: groupId,
      KAFKA_STARTING_OFFSET: 'earliest',
      PG_SINK_URL: testDatabaseUrl(),
      PG_SINK_TABLE: table,
      HTTP_PORT: '0',
    });
    runtimes.push(runtime);
    const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
    return { runtime, port };
  };
  const countRows = (): Promise<number> => withClient(async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${quoteTableName(table)}`)).rows[0].n));

  const first = await serve('sink-first');
  const metrics = await waitForMetrics(first.port, (m) => sampleValue(m, 'mlstream_records_in_total', { topic: 'messages' }) === N, 180_000);
  assert.equal(sampleValue(metrics, 'mlstream_records_out_total', { topic: 'predictions', outcome: 'prediction' }), N);
  assert.equal(sampleValue(metrics, 'mlstream_records_out_total', { outcome: 'error' }) ?? 0, 0);
  assert.equal(sampleValue(metrics, 'mlstream_end_to_end_latency_seconds_count'), N);
  assert.equal(sampleValue(metrics, 'mlstream_model_loaded', { model: IRIS_PACKAGE, serving: 'true' }), 1);
  assert.equal(sampleValue(metrics, 'mlstream_model_loads_total', { model: IRIS_PACKAGE }), 1);
  assert.ok((sampleValue(metrics, 'mlstream_stage_duration_seconds_count', { class: 'org.apache.spark.ml.classification.NaiveBayesModel' }) ?? 0) >= 3);
  const lag = metrics.get('mlstream_consumer_lag')!.samples;
  assert.equal(lag.length, 3, 'one lag gauge per input partition');
  assert.ok(lag.every((s) => s.value === 0), `lag after draining: ${JSON.stringify(lag)}`);

  assert.equal(await countRows(), N);
  const stored = await withClient(async (c) => (await c.query(`SELECT id, label FROM ${quoteTableName(table)}`)).rows as Array<{ id: string; label: string }>);
  const byId = new Map(stored.map((r) => [r.id, r.label]));
  assert.equal(byId.size, N, 'every id once');
  const wrong = records.filter((r) => byId.get(r.id) !== r.expectedLabel);
  assert.equal(wrong.length, 0, `${wrong.length} labels differ from Spark's, e.g. ${wrong[0]?.id}`);
  assert.equal(await first.runtime.stop(), 0);

  // The replay must really write: rows deleted meanwhile come back, once, and nothing else is added.
  const deleted = ['r0', 'r4999', 'r9999'];
  await withClient((c) => c.query(`DELETE FROM ${quoteTableName(table)} WHERE id = ANY($1)`, [deleted]));
  assert.equal(await countRows(), N - deleted.length);

  const replay = await serve('sink-replay');
  const replayed = await waitForMetrics(replay.port, (m) => sampleValue(m, 'mlstream_records_in_total', { topic: 'messages' }) === N, 180_000);
  assert.equal(sampleValue(replayed, 'mlstream_records_out_total', { topic: 'predictions', outcome: 'prediction' }), N, 'the replay predicted every record again');
  assert.equal(await countRows(), N, 'still exactly 10k rows after the replay');
  const back = await withClient(async (c) => (await c.query(`SELECT id, count(*)::int AS n FROM ${quoteTableName(table)} WHERE id = ANY($1) GROUP BY id ORDER BY id`, [deleted])).rows);
  assert.deepEqual(back, [...deleted].sort().map((id) => ({ id, n: 1 })));
  assert.equal(await replay.runtime.stop(), 0);
});

test('while inserts fail nothing is committed, and once PostgreSQL accepts them again every record lands once', { skip, timeout: 240_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-sink-fail-'));
  const models = join(work, 'models');
  installIrisPackage(models);
  const table = uniqueTableName('sink_fail');
  const quoted = quoteTableName(table);
  const broker: LocalBroker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    await withClient((c) => c.query(`DROP TABLE IF EXISTS ${quoted}`));
    rmSync(work, { recursive: true, force: true });
  });
  runtime = startRuntime({
    KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
    MODELS_DIR: models,
    MODEL_PIPELINE: IRIS_PACKAGE,
    KAFKA_GROUP_ID: 'sink-fail',
    PG_SINK_URL: testDatabaseUrl(),
    PG_SINK_TABLE: table,
    HTTP_PORT: '0',
  });
  const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
  await runtime.waitForLog((l) => l.msg === 'postgres sink ready');
  // A constraint no new row can meet: every insert fails until it is dropped.
  await withClient((c) => c.query(`ALTER TABLE ${quoted} ADD CONSTRAINT mlstream_test_block CHECK (false) NOT VALID`));

  const N = 2000;
  await produceAll(broker.bootstrap, 'messages', toKafkaMessages(irisRecords(N)));
  await runtime.waitForLog((l) => l.msg === 'postgres sink: insert failed; the slice is not committed and will be retried', 60_000);
  await new Promise((r) => setTimeout(r, 2000));
  const blocked = await waitForMetrics(port, () => true, 10_000);
  assert.equal(sampleValue(blocked, 'mlstream_records_in_total', { topic: 'messages' }) ?? 0, 0, 'no slice was committed while its rows could not be stored');

  await withClient((c) => c.query(`ALTER TABLE ${quoted} DROP CONSTRAINT mlstream_test_block`));
  await waitForMetrics(port, (m) => sampleValue(m, 'mlstream_records_in_total', { topic: 'messages' }) === N, 180_000);
  const rows = await withClient(async (c) => (await c.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM ${quoted}`)).rows[0]);
  assert.deepEqual(rows, { n: N, ids: N });
  assert.equal(await runtime.stop(), 0);
});

/** Polls /metrics (parsing it strictly every time) until `done` holds. */
async function waitForMetrics(port: number, done: (m: Map<string, Family>) => boolean, timeoutMs: number): Promise<Map<string, Family>> {
  const deadline = Date.now() + timeoutMs;
  let last: Map<string, Family> | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    last = parsePrometheusText(await res.text());
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`metrics did not reach the expected state in ${timeoutMs} ms; records in: ${last && sampleValue(last, 'mlstream_records_in_total')}`);
}
