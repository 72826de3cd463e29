import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PackageError } from '../../runtime/packages/errors.js';
import { loadPackage, type ModelVersion } from '../../runtime/packages/package.js';
import { Frame } from '../../runtime/pipeline/frame.js';
import { buildFrame } from '../../runtime/pipeline/input-schema.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { encodeModel, type ModelDescription } from '../../scripts/examples/onnx/model.js';

const work = mkdtempSync(join(tmpdir(), 'mlstream-onnx-'));
after(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;

/** A single-stage package: the root metadata is the ONNX stage, model.onnx beside it. */
function onnxPackage(paramMap: Record<string, unknown>, model: ModelDescription, inputSchema: Record<string, string>, labels: Record<string, string> = {}): string {
  const dir = join(work, `pkg${counter++}`);
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  writeFileSync(join(dir, 'metadata', 'part-00000'), JSON.stringify({ class: 'mlstream.OnnxModel', uid: `OnnxModel_${counter}`, paramMap }) + '\n');
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: inputSchema, output_labels: labels }));
  return dir;
}

async function withModel<T>(dir: string, use: (m: ModelVersion) => Promise<T>): Promise<T> {
  const model = await loadPackage(dir, builtinRegistry());
  try {
    return await use(model);
  } finally {
    await model.pipeline.dispose();
  }
}

async function run(model: ModelVersion, records: Record<string, unknown>[]): Promise<Frame> {
  return model.pipeline.run(buildFrame(records, model.fields));
}

// A 3-class linear model on 2 features: scores = x·Wᵀ + b.
const W = [
  [1.5, -2],
  [-0.5, 0.25],
  [-1, 2],
];
const B = [0.1, 0.2, -0.3];

/** Softmax of the linear scores, computed here in float32 as onnxruntime does. */
function expectedProbabilities(x: number[]): number[] {
  const f = Math.fround;
  const scores = W.map((w, c) => f(f(f(f(x[0]!) * f(w[0]!)) + f(f(x[1]!) * f(w[1]!))) + f(B[c]!)));
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

function linearClassifier(labels: { ints: number[] } | { strings: string[] }, zipMap: boolean): ModelDescription {
  const ints = 'ints' in labels;
  return {
    graphName: 'skl2onnx_like',
    inputs: { float_input: { tensor: 'float', dims: ['N', 2] } },
    outputs: {
      output_label: { tensor: ints ? 'int64' : 'string', dims: ['N'] },
      output_probability: zipMap ? { sequenceOfMaps: { key: ints ? 'int64' : 'string', value: 'float' } } : { tensor: 'float', dims: ['N', 3] },
    },
    nodes: [
      {
        op: 'LinearClassifier',
        domain: 'ai.onnx.ml',
        inputs: ['float_input'],
        outputs: ['output_label', zipMap ? 'probabilities' : 'output_probability'],
        attributes: {
          coefficients: { floats: W.flat() },
          intercepts: { floats: B },
          ...(ints ? { classlabels_ints: { ints: labels.ints } } : { classlabels_strings: { strings: labels.strings } }),
          multi_class: { i: 1 },
          post_transform: { s: 'SOFTMAX' },
        },
      },
      ...(zipMap
        ? [{ op: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['probabilities'], outputs: ['output_probability'], attributes: ints ? { classlabels_int64s: { ints: labels.ints } } : { classlabels_strings: { strings: labels.strings } } }]
        : []),
    ],
    opsets: { '': 17, 'ai.onnx.ml': 1 },
  };
}

const rows = [
  { a: 1, b: 0 },
  { a: -1, b: 1 },
  { a: 0.5, b: 0.5 },
  { a: 2, b: -3 },
];

test("an skl2onnx classifier's ZipMap output (a sequence of maps) is unwrapped and gives label indices and probabilities", async () => {
  const dir = onnxPackage({ inputCols: ['a', 'b'] }, linearClassifier({ ints: [0, 1, 2] }, true), { a: 'DOUBLE', b: 'DOUBLE' });
  await withModel(dir, async (model) => {
    assert.equal(model.pipeline.outputs?.numClasses, 3);
    const frame = await run(model, rows);
    const predictions = frame.getTyped('prediction', 'double').values;
    const probabilities = frame.getTyped('probability', 'vector').values;
    rows.forEach((r, i) => {
      const expected = expectedProbabilities([r.a, r.b]);
      const got = Array.from(probabilities[i] as Float64Array);
      got.forEach((p, k) => assert.ok(Math.abs(p - expected[k]!) < 1e-6, `row ${i} class ${k}: ${p} vs ${expected[k]}`));
      assert.equal(predictions[i], expected.indexOf(Math.max(...expected)));
    });
  });
});

test('string class labels become their index in the ZipMap labels, so output_labels maps them like Spark label indices', async () => {
  const dir = onnxPackage({ inputCols: ['a', 'b'] }, linearClassifier({ strings: ['cat', 'dog', 'eel'] }, true), { a: 'DOUBLE', b: 'DOUBLE' });
  await withModel(dir, async (model) => {
    const frame = await run(model, rows);
    const predictions = Array.from(frame.getTyped('prediction', 'double').values);
    assert.deepEqual(predictions, rows.map((r) => { const p = expectedProbabilities([r.a, r.b]); return p.indexOf(Math.max(...p)); }));
  });
});

test('a string label output without ZipMap or classLabels is refused at load, naming the fix', async () => {
  const dir = onnxPackage({ inputCols: ['a', 'b'] }, linearClassifier({ strings: ['cat', 'dog', 'eel'] }, false), { a: 'DOUBLE', b: 'DOUBLE' });
  await assert.rejects(loadPackage(dir, builtinRegistry()), (e: unknown) => e instanceof PackageError && /classLabels/.test(e.message));
});

test('with classLabels the zipmap=False export (plain probability tensor) predicts indices into them', async () => {
  const dir = onnxPackage({ inputCols: ['a', 'b'], classLabels: ['cat', 'dog', 'eel'] }, linearClassifier({ strings: ['cat', 'dog', 'eel'] }, false), { a: 'DOUBLE', b: 'DOUBLE' });
  await withModel(dir, async (model) => {
    const frame = await run(model, rows);
    const probabilities = frame.getTyped('probability', 'vector').values;
    const predictions = frame.getTyped('prediction', 'double').values;
    rows.forEach((r, i) => {
      const expected = expectedProbabilities([r.a, r.b]);
      assert.equal(predictions[i], expected.indexOf(Math.max(...expected)));
      assert.ok(Math.abs((probabilities[i] as Float64Array)[2]! - expected[2]!) < 1e-6);
    });
  });
});

/** A double-precision linear model over a vector: one output column, so it is a regression value. */
function vectorRegressor(size: number, weights: number[], bias: number): ModelDescription {
  return {
    graphName: 'regressor',
    inputs: { x: { tensor: 'double', dims: ['N', size] } },
    outputs: { y: { tensor: 'double', dims: ['N', 1] } },
    initializers: [
      { name: 'w', type: 'double', dims: [size, 1], data: weights },
      { name: 'b', type: 'double', dims: [1], data: [bias] },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['y'] },
    ],
  };
}

test('a vector column (dense or sparse) feeds a [batch, size] tensor; a single-column output is the prediction; bad rows fail alone', async () => {
  const dir = onnxPackage({ featuresCol: 'v' }, vectorRegressor(4, [1, 10, 100, 1000], 0.5), { v: 'VECTOR?' });
  await withModel(dir, async (model) => {
    assert.equal(model.pipeline.outputs?.probabilityCol, undefined);
    const records = [
      { v: [1, 2, 3, 4] },
      { v: { size: 4, indices: [3, 1], values: [2, 5] } },
      { v: [1, 2, 3] },
      { v: null },
      { v: { size: 4, indices: [], values: [] } },
    ];
    const frame = await run(model, records);
    assert.deepEqual(Array.from(frame.rowIds), [0, 1, 4]);
    assert.deepEqual(Array.from(frame.getTyped('prediction', 'double').values), [4321.5, 2050.5, 0.5]);
    assert.deepEqual(
      frame.rejections.map((r) => [r.row, r.code]),
      [
        [2, 'PIPELINE_ERROR'],
        [3, 'PIPELINE_ERROR'],
      ],
    );
    assert.match(frame.rejections[0]!.message, /size 3, the model takes 4/);
  });
});

test('a batch whose tensor would pass 8 MiB runs in pieces, in order: the same predictions row by row, bad rows failed where they are', async () => {
  // 2^18 doubles: 2 MiB per row, so four rows per run and ten rows in three runs.
  const size = 2 ** 18;
  const weights = Array.from({ length: size }, (_, i) => (i % 7) + 1);
  const dir = onnxPackage({ featuresCol: 'v' }, vectorRegressor(size, weights, 0.5), { v: 'VECTOR?' });
  await withModel(dir, async (model) => {
    const at = (r: number): number[] => [r, 1000 + r, size - 1 - r];
    const records = Array.from({ length: 10 }, (_, r): { v: unknown } => ({ v: { size, indices: at(r), values: [1, 2, 3] } }));
    records[5] = { v: null };
    records[9] = { v: { size: 4, indices: [0], values: [1] } };
    const frame = await run(model, records);
    const kept = [0, 1, 2, 3, 4, 6, 7, 8];
    assert.deepEqual(Array.from(frame.rowIds), kept);
    const expected = kept.map((r) => at(r).reduce((sum, i, k) => sum + weights[i]! * (k + 1), 0.5));
    assert.deepEqual(Array.from(frame.getTyped('prediction', 'double').values), expected);
    assert.deepEqual(
      frame.rejections.map((r) => [r.row, r.code]),
      [
        [5, 'PIPELINE_ERROR'],
        [9, 'PIPELINE_ERROR'],
      ],
    );
  });
});

test('a probability-only graph predicts the first most probable class, as Spark does on ties', async () => {
  const model: ModelDescription = {
    graphName: 'softmax_only',
    inputs: { x: { tensor: 'float', dims: ['N', 3] } },
    outputs: { p: { tensor: 'float', dims: ['N', 3] } },
    nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['p'], attributes: { axis: { i: 1 } } }],
  };
  const dir = onnxPackage({ inputCols: ['a', 'b', 'c'] }, model, { a: 'DOUBLE', b: 'DOUBLE', c: 'DOUBLE' });
  await withModel(dir, async (m) => {
    const frame = await run(m, [
      { a: 0, b: 3, c: 1 },
      { a: 2, b: 2, c: 1 },
      { a: 0, b: 0, c: 5 },
    ]);
    assert.deepEqual(Array.from(frame.getTyped('prediction', 'double').values), [1, 0, 2]);
  });
});

test('packages whose params or graph do not fit are refused with the reason', async () => {
  const model = linearClassifier({ ints: [0, 1, 2] }, false);
  const cases: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
    [{ inputCols: ['a', 'b'], featuresCol: 'v' }, { a: 'DOUBLE', b: 'DOUBLE' }, /onnx-stage\.schema\.json/],
    [{ inputCols: ['a', 'b', 'c'] }, { a: 'DOUBLE', b: 'DOUBLE', c: 'DOUBLE' }, /takes 2 features, the params give 3/],
    [{ inputCols: ['a', 'b'], probabilityOutput: 'scores' }, { a: 'DOUBLE', b: 'DOUBLE' }, /no output "scores"/],
    [{ inputCols: ['a', 'b'], modelFile: '../../etc/passwd.onnx' }, { a: 'DOUBLE', b: 'DOUBLE' }, /onnx-stage\.schema\.json/],
  ];
  for (const [params, schema, reason] of cases) {
    const dir = onnxPackage(params, model, schema);
    await assert.rejects(loadPackage(dir, builtinRegistry()), (e: unknown) => e instanceof PackageError && reason.test(e.message), JSON.stringify(params));
  }
  const missing = onnxPackage({ inputCols: ['a', 'b'] }, model, { a: 'DOUBLE', b: 'DOUBLE' });
  rmSync(join(missing, 'model.onnx'));
  await assert.rejects(loadPackage(missing, builtinRegistry()), (e: unknown) => e instanceof PackageError && /model file is missing/.test(e.message));
  writeFileSync(join(missing, 'model.onnx'), 'not a protobuf model');
  await assert.rejects(loadPackage(missing, builtinRegistry()), (e: unknown) => e instanceof PackageError && /onnxruntime cannot load the model/.test(e.message));
});

/** Three dense layers: enough work per batch that inference takes a while. */
function heavyModel(width: number): ModelDescription {
  const weights = (name: string, rowsN: number, cols: number) => ({
    name,
    type: 'float' as const,
    dims: [rowsN, cols],
    data: Float32Array.from({ length: rowsN * cols }, (_, i) => ((i % 7) - 3) / (10 * width)),
  });
  return {
    graphName: 'heavy',
    inputs: { x: { tensor: 'float', dims: ['N', width] } },
    outputs: { p: { tensor: 'float', dims: ['N', 2] } },
    initializers: [weights('w1', width, width), weights('w2', width, width), weights('w3', width, 2)],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h1'] },
      { op: 'MatMul', inputs: ['h1', 'w2'], outputs: ['h2'] },
      { op: 'MatMul', inputs: ['h2', 'w3'], outputs: ['z'] },
      { op: 'Softmax', inputs: ['z'], outputs: ['p'], attributes: { axis: { i: 1 } } },
    ],
  };
}

test('inference runs off the main thread: the event loop turns while a batch is in onnxruntime', async () => {
  const width = 1024;
  const dir = onnxPackage({ featuresCol: 'v' }, heavyModel(width), { v: 'VECTOR' });
  await withModel(dir, async (model) => {
    const records = Array.from({ length: 2000 }, (_, i) => ({ v: Array.from({ length: width }, (_, j) => ((i + j) % 5) / 5) }));
    const frame = buildFrame(records, model.fields);
    // Inline, onnxruntime-node's run holds the thread: the loop below would turn once or twice.
    let turns = 0;
    let finished = false;
    const spin = (): void => {
      if (finished) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await model.pipeline.run(frame);
    finished = true;
    assert.ok(turns > 10, `the event loop turned ${turns} times during the run`);
    assert.equal(frame.getTyped('probability', 'vector').values.length, 2000);
  });
});

test('dispose waits for the run in flight, then releases the session; later runs fail clearly', async () => {
  const dir = onnxPackage({ inputCols: ['a', 'b'] }, linearClassifier({ ints: [0, 1, 2] }, false), { a: 'DOUBLE', b: 'DOUBLE' });
  const model = await loadPackage(dir, builtinRegistry());
  const inFlight = run(model, rows);
  const disposed = model.pipeline.dispose();
  const frame = await inFlight;
  await disposed;
  assert.equal(frame.getTyped('prediction', 'double').values.length, rows.length);
  await assert.rejects(run(model, rows), /released/);
});
