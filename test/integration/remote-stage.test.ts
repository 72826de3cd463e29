import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PackageError } from '../../runtime/packages/errors.js';
import { ParamReader, type SparkMetadata } from '../../runtime/packages/spark-format.js';
import type { Frame } from '../../runtime/pipeline/frame.js';
import { buildFrame, type InputField } from '../../runtime/pipeline/input-schema.js';
import type { Stage, StageContext } from '../../runtime/pipeline/stage.js';
import { REMOTE_MODEL_CLASS, remoteStages } from '../../runtime/stages/remote.js';
import { IRIS_CLASSES, IRIS_COLUMNS, irisOnnxModel, irisRows, type IrisRow, type ServedModel } from '../helpers/iris-onnx.js';
import { startKServeServer, startTfServingServer, type ModelServer } from '../helpers/model-servers.js';

const FIELDS: InputField[] = IRIS_COLUMNS.map((name) => ({ name, type: 'DOUBLE', nullable: false }));
const rows = irisRows();

let model: ServedModel;
let tf: ModelServer;
let ks: ModelServer;
/** What the model itself says for every iris row, asked directly (not through HTTP). */
let direct: { label: number[]; probabilities: Float32Array };

before(async () => {
  model = await irisOnnxModel();
  tf = await startTfServingServer('iris', model, IRIS_COLUMNS);
  ks = await startKServeServer('iris', model);
  direct = await model.predict(Float32Array.from(rows.flatMap((r) => r.features)), rows.length);
});
after(async () => {
  await tf.close();
  await ks.close();
});

async function stage(paramMap: Record<string, unknown>): Promise<Stage> {
  const metadata: SparkMetadata = { class: REMOTE_MODEL_CLASS, uid: 'RemoteModel_test', paramMap };
  const ctx: StageContext = {
    dir: '/nonexistent/remote',
    metadata,
    params: new ParamReader(metadata, 'metadata/part-00000'),
    readData: () => Promise.reject(new Error('no data')),
    loadNested: () => Promise.reject(new Error('no nested')),
  };
  return remoteStages[REMOTE_MODEL_CLASS]!(ctx);
}

function irisFrame(data: readonly IrisRow[] = rows): Frame {
  return buildFrame(
    data.map((r, i) => ({ id: i, ...Object.fromEntries(IRIS_COLUMNS.map((c, k) => [c, r.features[k]])) })),
    FIELDS,
  );
}

async function run(s: Stage, frame: Frame): Promise<Frame> {
  await s.transform(frame);
  frame.compact();
  return frame;
}

/** Every row predicted, each equal to the model's own answer; and the model is a real classifier. */
function assertAllPredicted(frame: Frame, predictionCol = 'prediction', probabilityCol?: string): void {
  assert.deepEqual(frame.rejections, []);
  assert.equal(frame.length, rows.length);
  const predicted = frame.getTyped(predictionCol, 'double').values;
  let correct = 0;
  for (let i = 0; i < frame.length; i++) {
    const row = frame.rowIds[i]!;
    assert.equal(predicted[i], direct.label[row], `row ${row}`);
    if (IRIS_CLASSES[predicted[i]!] === rows[row]!.species) correct++;
  }
  assert.ok(correct >= 140, `only ${correct} of 150 iris rows classified as their species`);
  if (probabilityCol) {
    const probs = frame.getTyped(probabilityCol, 'vector');
    assert.equal(probs.size, 3);
    for (let i = 0; i < frame.length; i++) {
      const p = probs.values[i] as Float64Array;
      const row = frame.rowIds[i]!;
      p.forEach((x, k) => assert.equal(x, direct.probabilities[row * 3 + k], `probability ${k} of row ${row}`));
    }
  }
}

const base = { model: 'iris', inputCols: [...IRIS_COLUMNS], retryBackoffMs: 10 };

describe('RemoteModel against TensorFlow Serving REST', () => {
  test('row form: named outputs, a batch split into requests of maxBatchSize, never more than maxConcurrency in flight', async () => {
    tf.requests.length = 0;
    tf.inject({ delayMs: 30 });
    const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, predictionOutput: 'label', probabilityOutput: 'probabilities', maxBatchSize: 16, maxConcurrency: 3 });
    assertAllPredicted(await run(s, irisFrame()), 'prediction', 'probability');
    tf.clearFaults();
    const predicts = tf.requests.filter((r) => r.path === '/v1/models/iris:predict');
    assert.equal(predicts.length, Math.ceil(150 / 16));
    assert.ok(predicts.every((r) => r.status === 200 && r.rows <= 16));
    assert.equal(tf.maxInFlight, 3);
  });

  test('columnar form against a versioned single-output signature: the score vector gives prediction (argmax) and probability', async () => {
    tf.requests.length = 0;
    const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, version: 1, requestFormat: 'inputs', signatureName: 'scores', probabilityCol: 'p', maxBatchSize: 100 });
    assertAllPredicted(await run(s, irisFrame()), 'prediction', 'p');
    assert.deepEqual(tf.requests.map((r) => [r.path, r.rows]), [['/v1/models/iris/versions/1:predict', 100], ['/v1/models/iris/versions/1:predict', 50]]);
  });

  test('columns layout: one named input per column, in the row and the columnar form', async () => {
    for (const requestFormat of ['instances', 'inputs']) {
      tf.requests.length = 0;
      const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, inputLayout: 'columns', signatureName: 'columns', requestFormat, predictionOutput: 'label', maxBatchSize: 50 });
      assertAllPredicted(await run(s, irisFrame()));
      assert.deepEqual(tf.requests.map((r) => r.status), [200, 200, 200], requestFormat);
    }
  });

  test('503 is retried with backoff and then succeeds; rows are not lost', async () => {
    tf.requests.length = 0;
    tf.inject({ status: 503, error: 'Model is loading', times: 2 });
    const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, predictionOutput: 'label', maxBatchSize: 200, retries: 2 });
    assertAllPredicted(await run(s, irisFrame()));
    assert.deepEqual(tf.requests.map((r) => r.status), [503, 503, 200]);
  });

  test('a 503 that persists past the retries rejects the rows with REMOTE_ERROR, the status and the server reason', async () => {
    tf.requests.length = 0;
    tf.inject({ status: 503, error: 'Model is loading' });
    const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, predictionOutput: 'label', maxBatchSize: 200, retries: 2 });
    const frame = await run(s, irisFrame(rows.slice(0, 5)));
    tf.clearFaults();
    assert.equal(frame.length, 0);
    assert.equal(frame.rejections.length, 5);
    for (const r of frame.rejections) {
      assert.equal(r.code, 'REMOTE_ERROR');
      assert.equal(r.stage, 'RemoteModel_test');
      assert.match(r.message, /^HTTP 503 Service Unavailable: Model is loading \(.*3 attempts\)$/);
    }
    assert.equal(tf.requests.length, 3);
  });

  test('a 500 is not retried; a wrong version is a 404 with the server text', async () => {
    tf.requests.length = 0;
    tf.inject({ status: 500, error: 'Internal: kernel crashed', times: 1 });
    const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, predictionOutput: 'label', retries: 3 });
    const frame = await run(s, irisFrame(rows.slice(0, 3)));
    assert.equal(tf.requests.length, 1);
    assert.ok(frame.rejections.every((r) => r.code === 'REMOTE_ERROR' && /^HTTP 500 Internal Server Error: Internal: kernel crashed/.test(r.message)));

    const v9 = await stage({ ...base, protocol: 'tfserving', url: tf.url, version: '9', retries: 3 });
    const missing = await run(v9, irisFrame(rows.slice(0, 2)));
    assert.equal(missing.rejections.length, 2);
    assert.match(missing.rejections[0]!.message, /^HTTP 404 Not Found: Servable not found for request: Specific\(iris, 9\)/);
  });

  test('a request slower than timeoutMs is aborted, retried, and its rows rejected with the timeout', async () => {
    tf.requests.length = 0;
    tf.inject({ delayMs: 1500 });
    const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, timeoutMs: 200, retries: 1 });
    const started = Date.now();
    const frame = await run(s, irisFrame(rows.slice(0, 4)));
    tf.clearFaults();
    assert.ok(Date.now() - started < 1500, 'the stage waited for the slow server instead of timing out');
    assert.equal(frame.rejections.length, 4);
    assert.match(frame.rejections[0]!.message, /^timed out after 200 ms \(.*2 attempts\)$/);
  });
});

describe('RemoteModel against the KServe v2 inference protocol', () => {
  test('the test server answers the v2 health and metadata endpoints as the protocol specifies', async () => {
    assert.deepEqual(await (await fetch(`${ks.url}/v2/health/ready`)).json(), { ready: true });
    const meta = (await (await fetch(`${ks.url}/v2/models/iris`)).json()) as { name: string; inputs: { name: string; datatype: string; shape: number[] }[] };
    assert.equal(meta.name, 'iris');
    assert.deepEqual(meta.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }]);
    const missing = await fetch(`${ks.url}/v2/models/roses`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: string }).error, /roses/);
  });

  test('FP32 tensor from inputCols, label and probabilities read from named outputs', async () => {
    ks.requests.length = 0;
    const s = await stage({ ...base, protocol: 'kserve-v2', url: ks.url, inputName: 'features', predictionOutput: 'label', probabilityOutput: 'probabilities', maxBatchSize: 40 });
    assertAllPredicted(await run(s, irisFrame()), 'prediction', 'probability');
    assert.deepEqual(ks.requests.map((r) => r.rows), [40, 40, 40, 30]);
    assert.ok(ks.requests.every((r) => r.path === '/v2/models/iris/infer'));
  });

  test('a vector featuresCol is sent as the tensor; the server refuses a wrong input name with 400, not retried', async () => {
    const frame = irisFrame();
    const cols = IRIS_COLUMNS.map((c) => frame.getTyped(c, 'double').values);
    frame.set('features', { type: 'vector', size: 4, values: Array.from({ length: frame.length }, (_, i) => Float64Array.from(cols, (v) => v[i]!)) });
    const s = await stage({ protocol: 'kserve-v2', url: ks.url, model: 'iris', version: '1', featuresCol: 'features', inputName: 'features', predictionOutput: 'label' });
    assertAllPredicted(await run(s, frame));

    ks.requests.length = 0;
    const wrong = await stage({ ...base, protocol: 'kserve-v2', url: ks.url, retries: 2 });
    const refused = await run(wrong, irisFrame(rows.slice(0, 2)));
    assert.equal(ks.requests.length, 1);
    assert.match(refused.rejections[0]!.message, /^HTTP 400 Bad Request: unexpected inference input 'input-0' for model 'iris'/);
  });

  test('Retry-After from a 429 is honoured; a dead server is a connection error', async () => {
    ks.requests.length = 0;
    ks.inject({ status: 429, error: 'too many requests', retryAfter: '1', times: 1 });
    const s = await stage({ ...base, protocol: 'kserve-v2', url: ks.url, inputName: 'features', predictionOutput: 'label', maxBatchSize: 200 });
    const started = Date.now();
    assertAllPredicted(await run(s, irisFrame()));
    assert.ok(Date.now() - started >= 950, 'retried before the Retry-After delay');
    assert.deepEqual(ks.requests.map((r) => r.status), [429, 200]);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((r) => closed.close(() => r()));
    const dead = await stage({ ...base, protocol: 'kserve-v2', url: `http://127.0.0.1:${port}`, retries: 1 });
    const frame = await run(dead, irisFrame(rows.slice(0, 2)));
    assert.match(frame.rejections[0]!.message, /^connection failed: ECONNREFUSED \(.*2 attempts\)$/);
  });
});

test('rows with a missing feature are rejected before sending; a reply with the wrong row count rejects its rows', async () => {
  const frame = buildFrame(
    [
      { id: 'a', Sepal_Length: 5.1, Sepal_Width: 3.5, Petal_Length: 1.4, Petal_Width: null },
      { id: 'b', Sepal_Length: 6.7, Sepal_Width: 3.0, Petal_Length: 5.2, Petal_Width: 2.3 },
    ],
    IRIS_COLUMNS.map((name) => ({ name, type: 'DOUBLE', nullable: true })),
  );
  const s = await stage({ ...base, protocol: 'tfserving', url: tf.url, predictionOutput: 'label' });
  await run(s, frame);
  assert.deepEqual(frame.rejections.map((r) => [r.row, r.code]), [[0, 'PIPELINE_ERROR']]);
  assert.equal(frame.getTyped('prediction', 'double').values[0], 2);

  const liar = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions": [1]}'));
  await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}`;
    const bad = await run(await stage({ ...base, protocol: 'tfserving', url }), irisFrame(rows.slice(0, 3)));
    assert.equal(bad.rejections.length, 3);
    assert.match(bad.rejections[0]!.message, /unexpected reply from .*: predictions has 1 rows for 3 sent/);
  } finally {
    liar.closeAllConnections();
    await new Promise<void>((r) => liar.close(() => r()));
  }
});

test('params are checked against schemas/remote-stage.schema.json when the package loads', async () => {
  await assert.rejects(stage({ protocol: 'tfserving', model: 'iris', inputCols: ['a'] }), (e: Error) => e instanceof PackageError && /must have required property 'url'/.test(e.message));
  await assert.rejects(stage({ protocol: 'tfserving', url: 'http://x', model: 'iris', inputCols: ['a'], featuresCol: 'f' }), PackageError);
  await assert.rejects(stage({ protocol: 'grpc', url: 'http://x', model: 'iris', inputCols: ['a'] }), /protocol must be equal to one of the allowed values/);
  await assert.rejects(stage({ protocol: 'kserve-v2', url: 'http://x', model: 'iris', inputCols: ['a'], requestFormat: 'inputs' }), PackageError);
});
