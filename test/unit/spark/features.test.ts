// Spark ml.feature stages: each expected value is derived by hand from Spark's formulas.
//   node --import tsx --test test/unit/spark/features.test.ts
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCodes } from '../../../runtime/errors.js';
import { ParamReader, readParquetRows, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { loadSparkObject } from '../../../runtime/packages/spark-loader.js';
import { Frame, toDense, type Column, type Vector } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import { StageRegistry } from '../../../runtime/pipeline/registry.js';
import type { Stage, StageContext } from '../../../runtime/pipeline/stage.js';
import { featureStages } from '../../../runtime/stages/spark/features.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../../helpers/fixtures.js';

const ML = 'org.apache.spark.ml.feature.';

async function stage(cls: string, paramMap: Record<string, unknown>, data: Record<string, unknown>[] = [], sparkVersion = '3.3.0'): Promise<Stage> {
  const metadata: SparkMetadata = { class: ML + cls, uid: `${cls}_test`, sparkVersion, paramMap };
  const ctx: StageContext = {
    dir: '/nonexistent',
    metadata,
    params: new ParamReader(metadata, 'test'),
    readData: async () => data,
    loadNested: async () => [],
  };
  return featureStages[ML + cls]!(ctx);
}

function frameOf(columns: Record<string, Column>): Frame {
  const n = Object.values(columns)[0]!.values.length;
  const frame = Frame.ofLength(n);
  for (const [name, col] of Object.entries(columns)) frame.set(name, col);
  return frame;
}

function doubles(values: (number | null)[]): Column {
  const nulls = Uint8Array.from(values, (v) => (v === null ? 1 : 0));
  return { type: 'double', values: Float64Array.from(values, (v) => v ?? NaN), nulls };
}

function vectors(size: number, values: (Vector | null)[]): Column {
  return { type: 'vector', size, values };
}

function sparse(size: number, indices: number[], values: number[]): Vector {
  return { size, indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

async function run(s: Stage, frame: Frame): Promise<Frame> {
  await s.transform(frame);
  frame.compact();
  return frame;
}

function vectorOut(frame: Frame, name: string): (Vector | null)[] {
  return frame.getTyped(name, 'vector').values;
}

describe('VectorAssembler', () => {
  test('builds sparse, then keeps whichever of dense and sparse Spark.compressed picks', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['a', 'v', 'b'], outputCol: 'out' });
    const frame = frameOf({
      a: doubles([1.5, 1, 0]),
      v: vectors(3, [sparse(3, [1], [2]), Float64Array.of(1, 2, 3), sparse(3, [], [])]),
      b: doubles([0, 4, 0]),
    });
    const out = vectorOut(await run(s, frame), 'out');
    // 2 non-zeros of 5: 1.5·(2+1) = 4.5 < 5 → sparse
    assert.deepEqual(out[0], sparse(5, [0, 2], [1.5, 2]));
    assert.deepEqual(out[1], Float64Array.of(1, 1, 2, 3, 4));
    // no non-zeros: 1.5 < 5 → sparse and empty
    assert.deepEqual(out[2], sparse(5, [], []));
    assert.equal(frame.getTyped('out', 'vector').size, 5);
  });

  test('the sparse/dense boundary is 1.5·(nnz+1) < size', async () => {
    const three = await stage('VectorAssembler', { inputCols: ['a', 'b', 'c'], outputCol: 'out' });
    const f3 = frameOf({ a: doubles([0]), b: doubles([0]), c: doubles([7]) });
    assert.deepEqual(vectorOut(await run(three, f3), 'out')[0], Float64Array.of(0, 0, 7));
    const four = await stage('VectorAssembler', { inputCols: ['a', 'b', 'c', 'd'], outputCol: 'out' });
    const f4 = frameOf({ a: doubles([0]), b: doubles([0]), c: doubles([7]), d: doubles([0]) });
    assert.deepEqual(vectorOut(await run(four, f4), 'out')[0], sparse(4, [2], [7]));
  });

  test('booleans count as 1.0 / 0.0', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['flag', 'x'], outputCol: 'out' });
    const frame = frameOf({ flag: { type: 'boolean', values: [true] }, x: doubles([2]) });
    assert.deepEqual(vectorOut(await run(s, frame), 'out')[0], Float64Array.of(1, 2));
  });

  test('handleInvalid=error fails rows with a null or NaN number, not NaN inside vectors', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['x', 'v'], outputCol: 'out' });
    const frame = frameOf({ x: doubles([null, NaN, 1]), v: vectors(2, [Float64Array.of(1, 1), Float64Array.of(1, 1), Float64Array.of(NaN, 1)]) });
    await run(s, frame);
    assert.deepEqual([...frame.rowIds], [2]);
    assert.deepEqual(frame.rejections.map((r) => [r.row, r.code]), [[0, ErrorCodes.PIPELINE_ERROR], [1, ErrorCodes.PIPELINE_ERROR]]);
    assert.deepEqual(vectorOut(frame, 'out')[0], Float64Array.of(1, NaN, 1));
  });

  test('handleInvalid=skip drops rows with a null or NaN number or a null vector', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['x', 'v'], outputCol: 'out', handleInvalid: 'skip' });
    const frame = frameOf({ x: doubles([null, NaN, 1, 2]), v: vectors(2, [Float64Array.of(1, 1), Float64Array.of(1, 1), null, Float64Array.of(3, 0)]) });
    await run(s, frame);
    assert.deepEqual([...frame.rowIds], [3]);
    assert.ok(frame.rejections.every((r) => r.code === ErrorCodes.ROW_SKIPPED));
    assert.deepEqual(vectorOut(frame, 'out')[0], Float64Array.of(2, 3, 0));
  });

  test('handleInvalid=keep writes NaN for a null number and size-many NaNs for a null vector', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['x', 'v'], outputCol: 'out', handleInvalid: 'keep' });
    const frame = frameOf({ x: doubles([null, 5]), v: vectors(3, [Float64Array.of(1, 0, 0), null]) });
    const out = vectorOut(await run(s, frame), 'out');
    assert.deepEqual(out[0], Float64Array.of(NaN, 1, 0, 0));
    assert.deepEqual(out[1], Float64Array.of(5, NaN, NaN, NaN));
  });

  test('handleInvalid=keep cannot fill a null vector of unknown size', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['v'], outputCol: 'out', handleInvalid: 'keep' });
    const frame = frameOf({ v: vectors(-1, [null]) });
    await run(s, frame);
    assert.equal(frame.length, 0);
    assert.match(frame.rejections[0]!.message, /VectorSizeHint/);
  });

  test('saves from before 2.4 (no handleInvalid) let NaN through and fail on null', async () => {
    const s = await stage('VectorAssembler', { inputCols: ['x'], outputCol: 'out' }, [], '2.3.2');
    const frame = frameOf({ x: doubles([NaN, null]) });
    await run(s, frame);
    assert.deepEqual([...frame.rowIds], [0]);
    assert.deepEqual(vectorOut(frame, 'out')[0], Float64Array.of(NaN));
  });
});

describe('VectorSizeHint', () => {
  test('error fails, skip drops, optimistic passes vectors of another size; the column gets the size', async () => {
    const cols = (): Record<string, Column> => ({ v: vectors(-1, [Float64Array.of(1, 2, 3), Float64Array.of(1, 2), null]) });
    for (const [mode, kept, code] of [
      ['error', [0], ErrorCodes.PIPELINE_ERROR],
      ['skip', [0], ErrorCodes.ROW_SKIPPED],
      ['optimistic', [0, 1, 2], undefined],
    ] as const) {
      const s = await stage('VectorSizeHint', { inputCol: 'v', size: 3, handleInvalid: mode });
      const frame = await run(s, frameOf(cols()));
      assert.deepEqual([...frame.rowIds], kept, mode);
      if (code) assert.ok(frame.rejections.every((r) => r.code === code));
      assert.equal(frame.getTyped('v', 'vector').size, 3);
    }
  });
});

describe('scalers', () => {
  const scalerData = [{ mean: { type: 1, values: [1, 2] }, std: { type: 1, values: [2, 0] } }];

  test('StandardScalerModel: (x - mean) · (1/std), zero std → 0', async () => {
    const s = await stage('StandardScalerModel', { inputCol: 'v', outputCol: 'out', withMean: true, withStd: true }, scalerData);
    const out = vectorOut(await run(s, frameOf({ v: vectors(2, [Float64Array.of(3, 5), sparse(2, [1], [4])]) })), 'out');
    assert.deepEqual(out[0], Float64Array.of(1, 0));
    assert.deepEqual(out[1], Float64Array.of(-0.5, 0));
  });

  test('StandardScalerModel withStd only keeps sparse vectors sparse', async () => {
    const s = await stage('StandardScalerModel', { inputCol: 'v', outputCol: 'out', withMean: false, withStd: true }, scalerData);
    const out = vectorOut(await run(s, frameOf({ v: vectors(2, [sparse(2, [0, 1], [3, 5]), Float64Array.of(3, 5)]) })), 'out');
    assert.deepEqual(out[0], sparse(2, [0, 1], [1.5, 0]));
    assert.deepEqual(out[1], Float64Array.of(1.5, 0));
  });

  test('StandardScalerModel before 3.0 writes exactly 0 where std is 0, even for NaN', async () => {
    const legacy = await stage('StandardScalerModel', { inputCol: 'v', outputCol: 'out', withMean: true, withStd: true }, scalerData, '2.1.1');
    assert.deepEqual(vectorOut(await run(legacy, frameOf({ v: vectors(2, [Float64Array.of(3, NaN)]) })), 'out')[0], Float64Array.of(1, 0));
    const current = await stage('StandardScalerModel', { inputCol: 'v', outputCol: 'out', withMean: true, withStd: true }, scalerData);
    assert.deepEqual(vectorOut(await run(current, frameOf({ v: vectors(2, [Float64Array.of(3, NaN)]) })), 'out')[0], Float64Array.of(1, NaN));
  });

  test('StandardScalerModel fails rows of the wrong size or null', async () => {
    const s = await stage('StandardScalerModel', { inputCol: 'v', outputCol: 'out', withMean: true, withStd: true }, scalerData);
    const frame = await run(s, frameOf({ v: vectors(3, [Float64Array.of(1, 2, 3), null]) }));
    assert.equal(frame.length, 0);
    assert.equal(frame.rejections.length, 2);
  });

  test('MinMaxScalerModel: constant feature → (min+max)/2, NaN stays, output compressed', async () => {
    const data = [{ originalMin: { type: 0, size: 4, indices: [1], values: [5] }, originalMax: { type: 1, values: [10, 5, 3, 1] } }];
    const s = await stage('MinMaxScalerModel', { inputCol: 'v', outputCol: 'out' }, data);
    const out = vectorOut(await run(s, frameOf({ v: vectors(4, [Float64Array.of(5, 7, NaN, 0), Float64Array.of(0, 5, 0, 1)]) })), 'out');
    assert.deepEqual(out[0], Float64Array.of(0.5, 0.5, NaN, 0));
    // [0, 0.5, 0, 1]: 2 non-zeros of 4 → 4.5 < 4 is false → dense
    assert.deepEqual(out[1], Float64Array.of(0, 0.5, 0, 1));
    const ranged = await stage('MinMaxScalerModel', { inputCol: 'v', outputCol: 'out', min: -1, max: 1 }, data);
    const r = vectorOut(await run(ranged, frameOf({ v: vectors(4, [Float64Array.of(0, 9, 0, 1)]) })), 'out')[0];
    // constant → 0; 0 ↦ -1; x ↦ (x - 0)·(2/1) - 1
    assert.deepEqual(r, Float64Array.of(-1, 0, -1, 1));
  });

  test('MinMaxScalerModel picks sparse when it is smaller', async () => {
    const data = [{ originalMin: { type: 1, values: [0, 0, 0, 0, 0] }, originalMax: { type: 1, values: [1, 1, 1, 1, 2] } }];
    const s = await stage('MinMaxScalerModel', { inputCol: 'v', outputCol: 'out' }, data);
    assert.deepEqual(vectorOut(await run(s, frameOf({ v: vectors(5, [sparse(5, [4], [1])]) })), 'out')[0], sparse(5, [4], [0.5]));
  });

  test('MinMaxScalerModel before 3.0: raw = (x - min)/range, constant → 0.5, always dense', async () => {
    const data = [{ originalMin: { type: 1, values: [0, 0, 2, 0, 0] }, originalMax: { type: 1, values: [4, 1, 2, 1, 1] } }];
    const s = await stage('MinMaxScalerModel', { inputCol: 'v', outputCol: 'out', min: 0, max: 10 }, data, '2.4.0');
    assert.deepEqual(vectorOut(await run(s, frameOf({ v: vectors(5, [sparse(5, [0], [1])]) })), 'out')[0], Float64Array.of(2.5, 0, 5, 0, 0));
  });

  test('MaxAbsScalerModel divides by max |x|, zero max leaves the feature, sparse stays sparse', async () => {
    const s = await stage('MaxAbsScalerModel', { inputCol: 'v', outputCol: 'out' }, [{ maxAbs: { type: 1, values: [2, 0, 4] } }]);
    const out = vectorOut(await run(s, frameOf({ v: vectors(3, [sparse(3, [0, 1, 2], [1, 3, -2]), Float64Array.of(-2, 1, 1)]) })), 'out');
    assert.deepEqual(out[0], sparse(3, [0, 1, 2], [0.5, 3, -0.5]));
    assert.deepEqual(out[1], Float64Array.of(-1, 1, 0.25));
  });

  test('Normalizer: p = 1, 2, ∞; a zero vector is returned as is', async () => {
    const input = (): Record<string, Column> => ({ v: vectors(2, [Float64Array.of(3, -4), sparse(2, [], [])]) });
    const l2 = vectorOut(await run(await stage('Normalizer', { inputCol: 'v', outputCol: 'out' }), frameOf(input())), 'out');
    assert.deepEqual(l2[0], Float64Array.of(0.6, -0.8));
    assert.deepEqual(l2[1], sparse(2, [], []));
    const l1 = vectorOut(await run(await stage('Normalizer', { inputCol: 'v', outputCol: 'out', p: 1 }), frameOf(input())), 'out');
    assert.deepEqual(l1[0], Float64Array.of(3 / 7, -4 / 7));
    const inf = vectorOut(await run(await stage('Normalizer', { inputCol: 'v', outputCol: 'out', p: 'Infinity' }), frameOf(input())), 'out');
    assert.deepEqual(inf[0], Float64Array.of(0.75, -1));
  });

  test('ImputerModel replaces nulls and missingValue with the surrogate', async () => {
    const s = await stage('ImputerModel', { inputCol: 'a', outputCol: 'a2', missingValue: -1 }, [{ a: 2.5 }]);
    const frame = await run(s, frameOf({ a: doubles([1, -1, null, NaN]) }));
    assert.deepEqual(frame.getTyped('a2', 'double').values, Float64Array.of(1, 2.5, 2.5, NaN));
  });

  test('ImputerModel multi-column with the default missingValue NaN', async () => {
    const s = await stage('ImputerModel', { inputCols: ['a', 'b'], outputCols: ['a2', 'b2'] }, [{ a: 2.5, b: 7 }]);
    const frame = await run(s, frameOf({ a: doubles([NaN, 1]), b: doubles([3, null]) }));
    assert.deepEqual(frame.getTyped('a2', 'double').values, Float64Array.of(2.5, 1));
    assert.deepEqual(frame.getTyped('b2', 'double').values, Float64Array.of(3, 7));
  });

  test("ImputerModel casts the surrogate back to the input's type, as Spark's `.cast(inputType)`: INTEGER/LONG truncate toward zero, FLOAT rounds to float", async () => {
    const s = await stage('ImputerModel', { inputCols: ['i', 'l', 'f', 'd', 'n'], outputCols: ['i2', 'l2', 'f2', 'd2', 'n2'], missingValue: -1 }, [
      { i: 2.7, l: -3.9, f: 0.1, d: 2.7, n: -0.4 },
    ]);
    const schema = { i: 'INTEGER?', l: 'LONG', f: 'FLOAT', d: 'DOUBLE', n: 'INTEGER' };
    const frame = buildFrame([{ i: null, l: -1, f: -1, d: -1, n: -1 }, { i: 5, l: 8, f: 0.5, d: 1.25, n: 3 }], parseInputSchema(schema));
    await s.transform(frame);
    const col = (name: string) => frame.getTyped(name, 'double');
    assert.deepEqual([...col('i2').values], [2, 5]);
    assert.deepEqual([...col('l2').values], [-3, 8]);
    assert.deepEqual([...col('f2').values], [Math.fround(0.1), 0.5]);
    assert.deepEqual([...col('d2').values], [2.7, 1.25]);
    assert.ok(Object.is(col('n2').values[0], 0), 'an int has no negative zero');
    assert.deepEqual([col('i2').sqlType, col('l2').sqlType, col('f2').sqlType, col('d2').sqlType], ['INTEGER', 'LONG', 'FLOAT', undefined]);
  });
});

describe('discretizers', () => {
  test('Binarizer on numbers: > threshold → 1, NaN and null → 0 (null stays null before 3.0)', async () => {
    const s = await stage('Binarizer', { inputCol: 'x', outputCol: 'y', threshold: 0.5 });
    const frame = await run(s, frameOf({ x: doubles([0.2, 0.5, 0.7, NaN, null]) }));
    const y = frame.getTyped('y', 'double');
    assert.deepEqual(y.values, Float64Array.of(0, 0, 1, 0, 0));
    assert.equal(y.nulls, undefined);
    const legacy = await stage('Binarizer', { inputCol: 'x', outputCol: 'y', threshold: 0.5 }, [], '2.4.0');
    const lf = await run(legacy, frameOf({ x: doubles([0.7, null]) }));
    assert.deepEqual(lf.getTyped('y', 'double').nulls, Uint8Array.of(0, 1));
  });

  test('Binarizer on vectors, compressed; a negative threshold turns implicit zeros into 1', async () => {
    const s = await stage('Binarizer', { inputCol: 'v', outputCol: 'y', threshold: 0.5 });
    const out = vectorOut(await run(s, frameOf({ v: vectors(-1, [Float64Array.of(0.2, 0.9, 0, 1.5), sparse(10, [2, 5], [0.9, 0.1])]) })), 'y');
    assert.deepEqual(out[0], Float64Array.of(0, 1, 0, 1));
    assert.deepEqual(out[1], sparse(10, [2], [1]));
    const neg = await stage('Binarizer', { inputCol: 'v', outputCol: 'y', threshold: -0.5 });
    assert.deepEqual(vectorOut(await run(neg, frameOf({ v: vectors(4, [sparse(4, [1, 2], [-1, 3])]) })), 'y')[0], Float64Array.of(1, 0, 1, 1));
  });

  test('Binarizer multi-column with thresholds', async () => {
    const s = await stage('Binarizer', { inputCols: ['a', 'b'], outputCols: ['a2', 'b2'], thresholds: [1, 10] });
    const frame = await run(s, frameOf({ a: doubles([2]), b: doubles([2]) }));
    assert.deepEqual([frame.getTyped('a2', 'double').values[0], frame.getTyped('b2', 'double').values[0]], [1, 0]);
  });

  test('Bucketizer: binary search over splits, last split closes the last bucket, -0.0 sorts below 0.0', async () => {
    const s = await stage('Bucketizer', { inputCol: 'x', outputCol: 'b', splits: ['-Inf', 0, 10, 'Inf'] });
    const frame = await run(s, frameOf({ x: doubles([5, 0, -0, Infinity, -Infinity, 10]) }));
    assert.deepEqual(frame.getTyped('b', 'double').values, Float64Array.of(1, 1, 0, 2, 0, 2));
  });

  test('Bucketizer: out of bounds always fails; NaN/null per handleInvalid (keep → extra bucket)', async () => {
    const input = (): Record<string, Column> => ({ x: doubles([25, 5, NaN, null]) });
    const err = await run(await stage('Bucketizer', { inputCol: 'x', outputCol: 'b', splits: [0, 10, 20] }), frameOf(input()));
    assert.deepEqual([...err.rowIds], [1]);
    const keep = await run(await stage('Bucketizer', { inputCol: 'x', outputCol: 'b', splits: [0, 10, 20], handleInvalid: 'keep' }), frameOf(input()));
    assert.deepEqual([...keep.rowIds], [1, 2, 3]);
    assert.deepEqual(keep.getTyped('b', 'double').values, Float64Array.of(0, 2, 2));
    const skip = await run(await stage('Bucketizer', { inputCol: 'x', outputCol: 'b', splits: [0, 10, 20], handleInvalid: 'skip' }), frameOf(input()));
    assert.deepEqual([...skip.rowIds], [1]);
    assert.deepEqual(skip.rejections.map((r) => r.code).sort(), [ErrorCodes.PIPELINE_ERROR, ErrorCodes.ROW_SKIPPED, ErrorCodes.ROW_SKIPPED]);
  });

  test('Bucketizer multi-column with splitsArray', async () => {
    const s = await stage('Bucketizer', { inputCols: ['a', 'b'], outputCols: ['a2', 'b2'], splitsArray: [['-Inf', 0, 'Inf'], [0, 1, 2, 3]] });
    const frame = await run(s, frameOf({ a: doubles([-3]), b: doubles([2.5]) }));
    assert.deepEqual([frame.getTyped('a2', 'double').values[0], frame.getTyped('b2', 'double').values[0]], [0, 2]);
  });
});

describe('Interaction, ChiSqSelectorModel, PCAModel', () => {
  test('Interaction multiplies every combination, the first input varying slowest', async () => {
    const s = await stage('Interaction', { inputCols: ['a', 'u', 'w'], outputCol: 'out' });
    const frame = frameOf({ a: doubles([2]), u: vectors(2, [Float64Array.of(1, 2)]), w: vectors(2, [Float64Array.of(3, 0)]) });
    // a·u0·w0, a·u0·w1, a·u1·w0, a·u1·w1 = 6, 0, 12, 0 → 2 non-zeros of 4 → dense
    assert.deepEqual(vectorOut(await run(s, frame), 'out')[0], Float64Array.of(6, 0, 12, 0));
  });

  test('ChiSqSelectorModel keeps the selected features in sorted order', async () => {
    const s = await stage('ChiSqSelectorModel', { featuresCol: 'v', outputCol: 'out' }, [{ selectedFeatures: [3, 0] }]);
    const out = vectorOut(await run(s, frameOf({ v: vectors(5, [Float64Array.of(5, 6, 7, 8, 9), sparse(5, [1, 3, 4], [1, 2, 3])]) })), 'out');
    assert.deepEqual(out[0], Float64Array.of(5, 8));
    assert.deepEqual(out[1], sparse(2, [1], [2]));
  });

  test('PCAModel projects onto the components', async () => {
    const pc = { type: 1, numRows: 3, numCols: 2, values: [1, 0, 0, 0, 1, 1], isTransposed: false };
    const s = await stage('PCAModel', { inputCol: 'v', outputCol: 'out', k: 2 }, [{ pc, explainedVariance: { type: 1, values: [0.6, 0.4] } }]);
    const out = vectorOut(await run(s, frameOf({ v: vectors(3, [Float64Array.of(2, 3, 4), sparse(3, [2], [5])]) })), 'out');
    assert.deepEqual(out[0], Float64Array.of(2, 7));
    assert.deepEqual(out[1], Float64Array.of(0, 5));
  });
});

describe('fixtures (Spark-saved stages)', { skip: skipWithoutFixtures }, () => {
  const ownRegistry = (): StageRegistry => {
    const r = new StageRegistry();
    for (const [cls, factory] of Object.entries(featureStages)) r.register(cls, factory);
    return r;
  };

  /** Every family, when the other families load; end-to-end checks need their stages too. */
  async function fullRegistry(needs: string[]): Promise<StageRegistry | null> {
    try {
      const { registerSparkStages } = await import('../../../runtime/stages/spark/index.js');
      const r = new StageRegistry();
      registerSparkStages(r);
      return needs.every((cls) => r.has(cls)) ? r : null;
    } catch {
      return null;
    }
  }

  function csvRecords(file: string, schema: Record<string, string>): Record<string, unknown>[] {
    const { header, rows } = readSparkCsv(file);
    return rows.map((r) => Object.fromEntries(header.filter((h) => h in schema).map((h) => [h, schema[h] === 'STRING' ? r[header.indexOf(h)] : Number(r[header.indexOf(h)])])));
  }

  const housing = fixture('jpmml33-housing-imputer-linreg');
  const housingSchema = Object.fromEntries(
    ['CRIM', 'ZN', 'INDUS', 'CHAS', 'NOX', 'RM', 'AGE', 'DIS', 'RAD', 'TAX', 'PTRATIO', 'B', 'LSTAT'].map((c) => [c, c === 'CHAS' || c === 'RAD' ? 'INTEGER' : 'DOUBLE']),
  );

  test('jpmml33-housing: two ImputerModels (-1 is missing) then VectorAssembler, on all 506 rows', async () => {
    const reg = ownRegistry();
    const stages: Stage[] = [];
    for (const dir of ['0_Imputer_8df801d12345', '1_Imputer_68d2fd38ee7b', '2_VectorAssembler_17526a0d79fb']) {
      stages.push(...(await loadSparkObject(join(housing, 'stages', dir), reg)));
    }
    const fields = parseInputSchema(housingSchema);
    const records = csvRecords(join(housing, 'sample/input-Housing.csv'), housingSchema);
    const out = await new Pipeline(stages, Object.keys(housingSchema)).run(buildFrame(records, fields));
    assert.equal(out.length, 506);
    const [age] = await readParquetRows(join(housing, 'stages/0_Imputer_8df801d12345'));
    const [means] = await readParquetRows(join(housing, 'stages/1_Imputer_68d2fd38ee7b'));
    const imputed = (rec: Record<string, unknown>, c: string, surrogate: unknown): number => (rec[c] === -1 ? Number(surrogate) : Number(rec[c]));
    const vectorsOut = out.getTyped('featureVector', 'vector').values;
    records.forEach((rec, i) => {
      const expected = [
        Number(rec.CHAS),
        Number(rec.RAD),
        Number(rec.TAX),
        imputed(rec, 'AGE', age!.AGE),
        ...['CRIM', 'ZN', 'INDUS', 'NOX', 'RM', 'DIS', 'PTRATIO', 'B', 'LSTAT'].map((c) => imputed(rec, c, means![c])),
      ];
      assert.deepEqual(toDense(vectorsOut[i]!), Float64Array.from(expected), `row ${i}`);
    });
  });

  test('jpmml33-housing end to end: MEDV as Spark predicted it', async (t) => {
    const reg = await fullRegistry(['org.apache.spark.ml.feature.VectorIndexerModel', 'org.apache.spark.ml.regression.LinearRegressionModel']);
    if (!reg) return t.skip('VectorIndexerModel / LinearRegressionModel not registered yet');
    const pipeline = new Pipeline(await loadSparkObject(housing, reg), Object.keys(housingSchema));
    const records = csvRecords(join(housing, 'sample/input-Housing.csv'), housingSchema);
    const out = await pipeline.run(buildFrame(records, parseInputSchema(housingSchema)));
    const expected = readSparkCsv(join(housing, 'sample/expected-LinearRegressionHousing.csv')).rows.map((r) => Number(r[0]));
    const got = out.getTyped(pipeline.outputs!.predictionCol, 'double').values;
    expected.forEach((e, i) => assert.ok(Math.abs(got[i]! - e) <= 1e-9 * Math.max(1, Math.abs(e)), `row ${i}: ${got[i]} vs ${e}`));
  });

  test('nikola-health: VectorAssembler(keep) + MinMaxScalerModel, null → NaN, sparse originalMin', async () => {
    const dir = fixture('nikola-health-minmax-pipeline');
    const names = ['HighBP', 'HighChol', 'CholCheck', 'BMI', 'Smoker', 'Stroke', 'HeartDiseaseorAttack', 'PhysActivity', 'Fruits', 'Veggies', 'HvyAlcoholConsump', 'AnyHealthcare', 'NoDocbcCost', 'GenHlth', 'MentHlth', 'PhysHlth', 'DiffWalk', 'Sex', 'Age', 'Education', 'Income'];
    const values = [1, 0, 1, 40, null, 0, 0, 1, 0, 1, 0, 1, 0, 5, 18, 15, 1, 0, 9, 4, 3];
    const pipeline = new Pipeline(await loadSparkObject(dir, ownRegistry()), names);
    const record = Object.fromEntries(names.map((n, i) => [n, values[i]]));
    const out = await pipeline.run(buildFrame([record], parseInputSchema(Object.fromEntries(names.map((n) => [n, 'DOUBLE?'])))));
    assert.deepEqual(toDense(out.getTyped('features', 'vector').values[0]!), Float64Array.from(values, (v) => v ?? NaN));
    // originalMin is 0 except BMI 12, GenHlth 1, Age 1, Education 1, Income 1; originalMax as saved
    const scaled = [1, 0, 1, (40 - 12) * (1 / (98 - 12)), NaN, 0, 0, 1, 0, 1, 0, 1, 0, (5 - 1) * (1 / 4), 18 * (1 / 30), 15 * (1 / 30), 1, 0, (9 - 1) * (1 / 12), (4 - 1) * (1 / 5), (3 - 1) * (1 / 7)];
    assert.deepEqual(out.getTyped('scaledFeatures', 'vector').values[0], Float64Array.from(scaled));
  });

  test('jpmml33-iris-scaler-dt: StandardScalerModel(withMean, withStd) on the sample', async () => {
    const dir = fixture('jpmml33-iris-scaler-dt');
    const reg = ownRegistry();
    const stages = [
      ...(await loadSparkObject(join(dir, 'stages/1_VectorAssembler_d49b30e02e06'), reg)),
      ...(await loadSparkObject(join(dir, 'stages/2_StandardScaler_b575a5619810'), reg)),
    ];
    const schema = { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' };
    const records = csvRecords(join(dir, 'sample/input-Iris.csv'), schema);
    const out = await new Pipeline(stages, Object.keys(schema)).run(buildFrame(records, parseInputSchema(schema)));
    const mean = [5.843333333333333, 3.0573333333333315, 3.758, 1.1993333333333336];
    const std = [0.8280661279778637, 0.4358662849366979, 1.7652982332594664, 0.7622376689603467];
    const scaled = out.getTyped('scaledFeatureVector', 'vector').values;
    records.forEach((rec, i) => {
      const x = Object.values(rec) as number[];
      assert.deepEqual(scaled[i], Float64Array.from(x, (v, k) => (v - mean[k]!) * (1 / std[k]!)), `row ${i}`);
    });
  });

  test('jpmml33-iris-scaler-dt end to end: species as Spark predicted them', async (t) => {
    const reg = await fullRegistry(['org.apache.spark.ml.feature.StringIndexerModel', 'org.apache.spark.ml.classification.DecisionTreeClassificationModel']);
    if (!reg) return t.skip('StringIndexerModel / DecisionTreeClassificationModel not registered yet');
    const dir = fixture('jpmml33-iris-scaler-dt');
    const schema = { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' };
    const pipeline = new Pipeline(await loadSparkObject(dir, reg), Object.keys(schema));
    const out = await pipeline.run(buildFrame(csvRecords(join(dir, 'sample/input-Iris.csv'), schema), parseInputSchema(schema)));
    const labels = ['setosa', 'versicolor', 'virginica'];
    const expected = readSparkCsv(join(dir, 'sample/expected-DecisionTreeIris.csv')).rows.map((r) => r[0]);
    const got = Array.from(out.getTyped(pipeline.outputs!.predictionCol, 'double').values, (p) => labels[p]);
    assert.deepEqual(got, expected);
  });

  test('jpmml33-sentiment-lsvc end to end: VectorAssembler joins two sparse count vectors, Score as Spark predicted', async (t) => {
    const reg = await fullRegistry(['org.apache.spark.ml.feature.CountVectorizerModel', 'org.apache.spark.ml.classification.LinearSVCModel']);
    if (!reg) return t.skip('text stages / LinearSVCModel not registered yet');
    const dir = fixture('jpmml33-sentiment-lsvc');
    const pipeline = new Pipeline(await loadSparkObject(dir, reg), ['Sentence']);
    const { rows } = readSparkCsv(join(dir, 'sample/input-Sentiment.csv'));
    const out = await pipeline.run(buildFrame(rows.map((r) => ({ Sentence: r[0] })), parseInputSchema({ Sentence: 'STRING' })));
    const expected = readSparkCsv(join(dir, 'sample/expected-LinearSVCSentiment.csv')).rows.map((r) => Number(r[0]));
    assert.deepEqual(Array.from(out.getTyped(pipeline.outputs!.predictionCol, 'double').values), expected);
    // 150 + 150 features with a handful of words each: sparse is the smaller form
    const assembled = out.getTyped('featureVector', 'vector');
    assert.equal(assembled.size, 300);
    assert.ok(assembled.values.every((v) => v !== null && !(v instanceof Float64Array)));
  });

  test('hydro21 StandardScalerModel (Spark 2.1.1, no defaultParamMap): zero std gives exactly 0', async () => {
    const dir = fixture('hydro21-strindexer-scaler-rf-idx2str/stages/1_StandardScaler_4326b7207e289920a204');
    const [s] = await loadSparkObject(dir, ownRegistry());
    const x = new Float64Array(31).fill(1);
    x[17] = NaN;
    const frame = frameOf({ features: vectors(31, [x]) });
    const out = toDense(vectorOut(await run(s!, frame), 'scaledFeatures')[0]!);
    assert.equal(out[17], 0);
    assert.equal(out[0], (1 - 4.890197817452668) * (1 / 2.3305948081649945));
  });
});
