import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { IRIS_CLASSES, IRIS_COLUMNS, irisOnnxModel, irisRows, type ServedModel } from '../helpers/iris-onnx.js';
import { collectUntil, produceAll, type Received } from '../helpers/kafka.js';
import { startKServeServer, startTfServingServer, type ModelServer } from '../helpers/model-servers.js';
import { startRuntime } from '../helpers/runtime-process.js';

/** Feature values that make the test servers misbehave for any request holding them. */
const CRASH = 99;
const STALL = 77;

let model: ServedModel;
before(async () => {
  model = await irisOnnxModel();
});

interface Input {
  readonly id: string;
  readonly features: readonly number[];
  readonly species?: string;
}

function inputs(): Input[] {
  const iris = irisRows().map((r, i) => ({ id: `iris-${i}`, features: r.features, species: r.species }));
  const marked = [0, 1, 2].flatMap((k) => [
    { id: `crash-${k}`, features: [CRASH, 3, 1.5 + k, 0.2] },
    { id: `stall-${k}`, features: [STALL, 3, 1.5 + k, 0.2] },
  ]);
  // Marked records sit among the others, not at the end.
  const all: Input[] = [...iris];
  marked.forEach((m, k) => all.splice(10 + k * 23, 0, m));
  return all;
}

function writePackage(models: string, params: Record<string, unknown>): void {
  const dir = join(models, 'iris-remote');
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  writeFileSync(join(dir, 'metadata', 'part-00000'), JSON.stringify({ class: 'mlstream.RemoteModel', uid: 'RemoteModel_iris', paramMap: params }) + '\n');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ input_schema: Object.fromEntries(IRIS_COLUMNS.map((c) => [c, 'DOUBLE'])), output_labels: { '0': 'setosa', '1': 'versicolor', '2': 'virginica' } }),
  );
}

/**
 * Serves a RemoteModel package against `server` through a real runtime and broker, with
 * the server failing (500) every request holding a CRASH row, stalling past the timeout on
 * STALL rows, and answering 503 to its first two requests. Returns what came out.
 */
async function serveThrough(t: TestContext, server: ModelServer, params: Record<string, unknown>): Promise<{ records: Input[]; byKey: Map<string, Received>; logs: string[] }> {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-remote-'));
  writePackage(join(work, 'models'), { model: 'iris', inputCols: [...IRIS_COLUMNS], predictionOutput: 'label', probabilityOutput: 'probabilities', timeoutMs: 500, retryBackoffMs: 20, ...params, url: server.url });
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions' }, { name: 'errors' }] });
  const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), KAFKA_GROUP_ID: 'remote-e2e' });
  t.after(async () => {
    await runtime.stop();
    await broker.stop();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  });
  await runtime.waitForLog((l) => l.msg === 'model package serving', 60_000);

  server.requests.length = 0;
  server.inject({ status: 500, error: 'Internal: kernel crashed', when: (rows) => rows.some((r) => r[0] === CRASH) });
  server.inject({ delayMs: 3000, when: (rows) => rows.some((r) => r[0] === STALL) });
  server.inject({ status: 503, error: 'Model is reloading', times: 2 });

  const records = inputs();
  const value = (r: Input): string => JSON.stringify({ id: r.id, ...Object.fromEntries(IRIS_COLUMNS.map((c, k) => [c, r.features[k]])) });
  await produceAll(broker.bootstrap, 'messages', records.map((r) => ({ key: r.id, value: value(r) })));
  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= records.length, 120_000);
  assert.equal(await runtime.stop(), 0);
  const byKey = new Map<string, Received>();
  for (const r of seen) {
    assert.ok(!byKey.has(r.key!), `${r.key} came out twice`);
    byKey.set(r.key!, r);
  }
  assert.equal(byKey.size, records.length, 'one output per input');
  return { records, byKey, logs: runtime.logs };
}

/** Predictions equal the model's own answers; failures are REMOTE_ERROR with the status or the timeout. */
async function checkOutputs(records: Input[], byKey: Map<string, Received>, server: ModelServer): Promise<Set<string>> {
  const predicted = records.filter((r) => byKey.get(r.id)!.topic === 'predictions');
  const direct = await model.predict(Float32Array.from(predicted.flatMap((r) => r.features)), predicted.length);
  let correct = 0;
  predicted.forEach((r, i) => {
    const body = byKey.get(r.id)!.value as { prediction: string; probability: Record<string, number> };
    assert.equal(body.prediction, IRIS_CLASSES[direct.label[i]!], r.id);
    IRIS_CLASSES.forEach((c, k) => assert.equal(body.probability[c], direct.probabilities[i * 3 + k], `${r.id} probability of ${c}`));
    if (body.prediction === r.species) correct++;
  });
  const irisPredicted = predicted.filter((r) => r.species).length;
  assert.ok(correct >= irisPredicted * 0.9, `${correct} of ${irisPredicted} iris rows predicted as their species`);

  const failed = new Set<string>();
  for (const r of records) {
    const out = byKey.get(r.id)!;
    if (out.topic !== 'errors') continue;
    failed.add(r.id);
    const body = out.value as { id: string; error: { code: string; message: string; stage: string } };
    assert.equal(body.id, r.id);
    assert.equal(body.error.code, 'REMOTE_ERROR');
    assert.equal(body.error.stage, 'RemoteModel_iris');
    assert.match(body.error.message, /^(HTTP 500 Internal Server Error: Internal: kernel crashed \(|timed out after 500 ms \(.*\d attempts\))/);
  }
  for (let k = 0; k < 3; k++) {
    assert.match((byKey.get(`crash-${k}`)!.value as { error: { message: string } }).error.message, /^HTTP 500 /);
    assert.match((byKey.get(`stall-${k}`)!.value as { error: { message: string } }).error.message, /^timed out after 500 ms/);
  }
  assert.equal(server.requests.filter((r) => r.status === 503).length, 2, 'the two 503s were answered (and retried)');
  return failed;
}

function deliveryReport(logs: string[]): { acknowledged: number; failed: number } | undefined {
  const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'delivery report');
  return lines.at(-1) as { acknowledged: number; failed: number } | undefined;
}

test('a RemoteModel package serves through TensorFlow Serving REST (row form, batches of 16): server errors and timeouts land on errors', { timeout: 240_000 }, async (t) => {
  const server = await startTfServingServer('iris', model);
  const { records, byKey, logs } = await serveThrough(t, server, { protocol: 'tfserving', maxBatchSize: 16, maxConcurrency: 2, retries: 2 });
  const failed = await checkOutputs(records, byKey, server);
  // A failing request takes its batch-mates with it: at most 6 requests of 16 rows failed.
  assert.ok(failed.size >= 6 && failed.size <= 6 * 16, `${failed.size} records failed`);
  assert.ok(server.requests.every((r) => r.rows <= 16));
  const report = deliveryReport(logs);
  assert.equal(report?.acknowledged, records.length, 'the runtime logs the acknowledged outputs');
  assert.equal(report?.failed, 0);
});

test('a RemoteModel package serves through the KServe v2 protocol (one row per request): exactly the failing rows land on errors', { timeout: 240_000 }, async (t) => {
  const server = await startKServeServer('iris', model);
  const { records, byKey, logs } = await serveThrough(t, server, { protocol: 'kserve-v2', inputName: 'features', maxBatchSize: 1, maxConcurrency: 4, retries: 2 });
  const failed = await checkOutputs(records, byKey, server);
  assert.deepEqual([...failed].sort(), ['crash-0', 'crash-1', 'crash-2', 'stall-0', 'stall-1', 'stall-2']);
  assert.ok(server.requests.some((r) => r.path === '/v2/models/iris/infer' && r.status === 200));
  assert.equal(deliveryReport(logs)?.acknowledged, records.length);
});
