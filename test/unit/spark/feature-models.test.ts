// Fitted feature models added for issue 17b (TargetEncoderModel, the LSH models), served
// from packages in Spark's on-disk layout. Expected numbers come from Spark's test suites
// (cited at each test) or, for the ylc-anime-minhashlsh export, from the hash formula in
// Spark's source evaluated with BigInt over the export's own coefficients.
//   node --import tsx --test test/unit/spark/feature-models.test.ts
import assert from 'node:assert/strict';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCodes } from '../../../runtime/errors.js';
import { readParquetRows } from '../../../runtime/packages/spark-format.js';
import { int32Column, matrixColumn } from '../../../scripts/examples/spark-writer.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { sparkFixturesDir } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/packages.js';
import { doubleArrayColumn, intArrayColumn, removePackage, savedPackage, serve, type SavedStage } from './saved-package.js';

const ML = 'org.apache.spark.ml.feature.';
const catalogueDir = join(dirname(sparkFixturesDir), 'spark-catalogue');
const skipWithoutCatalogue = existsSync(catalogueDir) ? false : `Spark catalogue fixtures not found at ${catalogueDir}`;

const made: string[] = [];
after(() => made.forEach(removePackage));

async function run(stage: SavedStage, schema: Record<string, string>, records: Record<string, unknown>[]): Promise<Outcome[]> {
  const dir = await savedPackage([stage], schema);
  made.push(dir);
  return serve(dir, records);
}

const predictions = (outcomes: Outcome[]): unknown[] => outcomes.map((o) => (isRejection(o) ? o : o.prediction));

describe('TargetEncoderModel (Spark 4.0)', () => {
  // TargetEncoderSuite's nine rows: input1 (short), input2 (int), input3 (double), a binary
  // and a continuous label. The saved statistics below are what Spark's fit aggregates from
  // them — per category (count, positives) for binary, (count, mean) for continuous — with
  // the overall statistic under category 2147483647, read straight off the suite's rows.
  const UNSEEN = 2147483647;
  const rows = [
    [0, 3, 5.0], [1, 4, 5.0], [2, 3, 5.0], [0, 4, 6.0], [1, 3, 6.0], [2, 4, 6.0], [0, 3, 7.0], [1, 4, 8.0], [2, 3, 9.0],
  ].map(([input1, input2, input3]) => ({ input1, input2, input3 }));
  const binaryStats: [number, number, number][][] = [
    [[0, 3, 1], [1, 3, 2], [2, 3, 1], [UNSEEN, 9, 4]],
    [[3, 5, 0], [4, 4, 4], [UNSEEN, 9, 4]],
    [[5, 3, 1], [6, 3, 2], [7, 1, 0], [8, 1, 1], [9, 1, 0], [UNSEEN, 9, 4]],
  ];
  const continuousStats: [number, number, number][][] = [
    [[0, 3, 40], [1, 3, 50], [2, 3, 60], [UNSEEN, 9, 50]],
    [[3, 5, 50], [4, 4, 50], [UNSEEN, 9, 50]],
    [[5, 3, 20], [6, 3, 50], [7, 1, 70], [8, 1, 80], [9, 1, 90], [UNSEEN, 9, 50]],
  ];
  const inputs = ['input1', 'input2', 'input3'];
  const schema = { input1: 'INTEGER?', input2: 'INTEGER?', input3: 'DOUBLE?' };

  /** One single-column model per input (the package outputs its last column), with the suite's params. */
  function encoder(c: number, stats: [number, number, number][][], params: Record<string, unknown>): SavedStage {
    const s = stats[c]!;
    return {
      class: ML + 'TargetEncoderModel',
      uid: `TargetEncoder_input${c + 1}`,
      sparkVersion: '4.0.0',
      paramMap: { inputCol: inputs[c], outputCol: `output${c + 1}`, labelCol: 'label', ...params },
      defaultParamMap: { handleInvalid: 'error', targetType: 'binary', smoothing: 0.0 },
      data: [
        int32Column('index', [0]),
        doubleArrayColumn('categories', [s.map((x) => x[0])]),
        doubleArrayColumn('counts', [s.map((x) => x[1])]),
        doubleArrayColumn('stats', [s.map((x) => x[2])]),
      ],
    };
  }

  async function encode(stats: [number, number, number][][], params: Record<string, unknown>, records: Record<string, unknown>[] = rows): Promise<unknown[][]> {
    const columns: unknown[][] = [];
    for (let c = 0; c < 3; c++) columns.push(predictions(await run(encoder(c, stats, params), schema, records)));
    return records.map((_, i) => columns.map((col) => col[i]));
  }

  test('a binary target encodes each category as its share of positives (the suite\'s binaryExpected)', async () => {
    const t = 1 / 3;
    assert.deepEqual(await encode(binaryStats, { targetType: 'binary' }), [
      [t, 0, t], [2 * t, 1, t], [t, 0, t], [t, 1, 2 * t], [2 * t, 0, 2 * t], [t, 1, 2 * t], [t, 0, 0], [2 * t, 1, 1], [t, 0, 0],
    ]);
  });

  test('a continuous target encodes each category as its mean (the suite\'s continuousExpected)', async () => {
    assert.deepEqual(await encode(continuousStats, { targetType: 'continuous' }), [
      [40, 50, 20], [50, 50, 20], [60, 50, 20], [40, 50, 50], [50, 50, 50], [60, 50, 50], [40, 50, 70], [50, 50, 80], [60, 50, 90],
    ]);
  });

  test('smoothing 1 blends category and overall means (the suite\'s smoothingExpected)', async () => {
    assert.deepEqual(await encode(continuousStats, { targetType: 'continuous', smoothing: 1.0 }), [
      [42.5, 50, 27.5], [50, 50, 27.5], [57.5, 50, 27.5], [42.5, 50, 50], [50, 50, 50], [57.5, 50, 50], [42.5, 50, 60], [50, 50, 65], [57.5, 50, 70],
    ]);
  });

  test('handleInvalid=keep encodes an unseen value and an unseen null with the overall mean', async () => {
    // Suite "unseen value - keep": (0, 3, 10.0) → 40, 50, 50; "unseen null category": (null, null, null) → 50, 50, 50.
    const out = await encode(continuousStats, { targetType: 'continuous', handleInvalid: 'keep' }, [
      { input1: 0, input2: 3, input3: 10.0 },
      { input1: null, input2: null, input3: null },
    ]);
    assert.deepEqual(out, [[40, 50, 50], [50, 50, 50]]);
  });

  test('handleInvalid=error fails only the row holding an unseen value, with Spark\'s message', async () => {
    const out = await run(encoder(2, continuousStats, { targetType: 'continuous' }), schema, [{ input1: 0, input2: 3, input3: 10.0 }, { input1: 0, input2: 3, input3: 9.0 }]);
    const [bad, good] = out;
    assert.ok(isRejection(bad) && bad.rejected === ErrorCodes.PIPELINE_ERROR && bad.message.includes('Unseen value 10.0 in feature input3'), JSON.stringify(bad));
    assert.equal(isRejection(good) ? good : good!.prediction, 90);
  });

  test('a multi-column model reads its data rows by index, whatever their order in the file', async () => {
    const stage: SavedStage = {
      class: ML + 'TargetEncoderModel',
      uid: 'TargetEncoder_multi',
      sparkVersion: '4.0.0',
      paramMap: { inputCols: inputs, outputCols: ['output1', 'output2', 'output3'], labelCol: 'label', targetType: 'continuous' },
      defaultParamMap: { handleInvalid: 'error', targetType: 'binary', smoothing: 0.0 },
      data: [
        int32Column('index', [2, 0, 1]),
        doubleArrayColumn('categories', [2, 0, 1].map((c) => continuousStats[c]!.map((x) => x[0]))),
        doubleArrayColumn('counts', [2, 0, 1].map((c) => continuousStats[c]!.map((x) => x[1]))),
        doubleArrayColumn('stats', [2, 0, 1].map((c) => continuousStats[c]!.map((x) => x[2]))),
      ],
    };
    // The package's output is its last column, output3: the suite's continuousExpected3.
    assert.deepEqual(predictions(await run(stage, schema, rows)), [20, 20, 20, 50, 50, 50, 70, 80, 90]);
  });
});

describe('MinHashLSHModel', () => {
  const model = (coefficients: number[], sparkVersion = '3.5.1'): SavedStage => ({
    class: ML + 'MinHashLSHModel',
    uid: 'MinHashLSH_test',
    sparkVersion,
    paramMap: { numHashTables: coefficients.length / 2, inputCol: 'keys', outputCol: 'values' },
    defaultParamMap: { numHashTables: 1, outputCol: 'MinHashLSH_test__output' },
    data: [intArrayColumn('randCoefficients', [coefficients])],
  });

  for (const version of ['3.5.1', '2.2.0']) {
    test(`hashes as MinHashLSHSuite's hashFunction test expects, one 1-element vector per table (a ${version} save)`, async () => {
      // MinHashLSHSuite "hashFunction": coefficients (0,1), (1,2), (3,0) on sparse(10, {2,3,5,7})
      // give [1.0], [5.0], [9.0]; "hashFunction: empty vector" throws. (Small enough that
      // Spark 2's 32-bit arithmetic gives the same.)
      const out = await run(model([0, 1, 1, 2, 3, 0], version), { keys: 'VECTOR' }, [
        { keys: { size: 10, indices: [2, 3, 5, 7], values: [1, 1, 1, 1] } },
        { keys: { size: 10, indices: [], values: [] } },
      ]);
      assert.deepEqual(out[0], { prediction: [[1], [5], [9]] });
      assert.ok(isRejection(out[1]) && out[1].rejected === ErrorCodes.PIPELINE_ERROR && /Must have at least 1 non zero entry/.test(out[1].message));
    });
  }

  test('the ylc-anime-minhashlsh export serves its 5 hash tables as 1-element vectors, by Spark\'s 64-bit formula', { skip: skipWithoutCatalogue }, async () => {
    const fixture = join(catalogueDir, 'ylc-anime-minhashlsh');
    const dir = tempDir('mlstream-17b-');
    made.push(dir);
    cpSync(fixture, dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { scaledFeatures: 'VECTOR' }, output_labels: {} }));
    const features = { size: 5000, indices: [0, 17, 4999], values: [0.5, -1.25, 3] };
    const [out] = await serve(dir, [{ scaledFeatures: features }]);
    // MinHashLSHModel.hashFunction: min over non-zero i of ((1 + i)·a + b) mod 2038074743, in Long arithmetic.
    const flat = ((await readParquetRows(fixture))[0]!.randCoefficients as unknown[]).map((x) => BigInt(Number(x)));
    const expected = Array.from({ length: flat.length / 2 }, (_, t) => {
      const hashes = features.indices.map((i) => ((1n + BigInt(i)) * flat[2 * t]! + flat[2 * t + 1]!) % 2038074743n);
      return [Number(hashes.reduce((m, h) => (h < m ? h : m)))];
    });
    assert.equal(expected.length, 5);
    assert.deepEqual(out, { prediction: expected });
  });
});

describe('BucketedRandomProjectionLSHModel', () => {
  // BucketedRandomProjectionLSHSuite "hashFunction": unit vectors [0,1] and [1,0],
  // bucketLength 0.5, key [1.23, 4.56] → [9.0], [2.0]. Spark 3 saves the vectors as the rows
  // of a row-major (transposed) DenseMatrix.
  const model = (sparkVersion: string): SavedStage => ({
    class: ML + 'BucketedRandomProjectionLSHModel',
    uid: 'brp_test',
    sparkVersion,
    paramMap: { bucketLength: 0.5, numHashTables: 2, inputCol: 'keys', outputCol: 'values' },
    data: [matrixColumn('randUnitVectors', [{ type: 1, numRows: 2, numCols: 2, colPtrs: null, rowIndices: null, values: [0, 1, 1, 0], isTransposed: true }])],
  });

  test('hashes as the suite\'s hashFunction test expects, for a 3.x and a 2.x save', async () => {
    for (const version of ['3.5.1', '2.2.0']) {
      const out = await run(model(version), { keys: 'VECTOR' }, [{ keys: [1.23, 4.56] }, { keys: [1, 2, 3] }]);
      assert.deepEqual(out[0], { prediction: [[9], [2]] }, version);
      assert.ok(isRejection(out[1]) && /expected a vector of size 2, got 3/.test(out[1].message), version);
    }
  });
});

describe('broken saves of the 17b classes', () => {
  test('are refused at load, naming the class and what is wrong', async () => {
    const cases: [SavedStage, Record<string, string>, RegExp][] = [
      [
        { class: ML + 'MinHashLSHModel', uid: 'mh_odd', sparkVersion: '3.5.1', paramMap: { inputCol: 'keys', outputCol: 'values' }, data: [intArrayColumn('randCoefficients', [[1, 2, 3]])] },
        { keys: 'VECTOR' },
        /cannot load org\.apache\.spark\.ml\.feature\.MinHashLSHModel: data\/ randCoefficients must be a list of \(a, b\) pairs/,
      ],
      [
        {
          class: ML + 'TargetEncoderModel',
          uid: 'te_no_overall',
          sparkVersion: '4.0.0',
          paramMap: { inputCol: 'c', outputCol: 'e' },
          data: [int32Column('index', [0]), doubleArrayColumn('categories', [[0, 1]]), doubleArrayColumn('counts', [[2, 3]]), doubleArrayColumn('stats', [[1, 1]])],
        },
        { c: 'INTEGER' },
        /TargetEncoderModel: data\/ row 0 has no overall statistics \(category 2147483647\)/,
      ],
      [
        { class: ML + 'ElementwiseProduct', uid: 'ep_no_vec', sparkVersion: '3.5.1', paramMap: { inputCol: 'v', outputCol: 'w' } },
        { v: 'VECTOR' },
        /ElementwiseProduct: transformation requires a weight vector/,
      ],
      [
        { class: ML + 'PolynomialExpansion', uid: 'poly_zero', sparkVersion: '3.5.1', paramMap: { inputCol: 'v', outputCol: 'w', degree: 0 } },
        { v: 'VECTOR' },
        /PolynomialExpansion: degree must be an integer of at least 1, got 0/,
      ],
    ];
    for (const [stage, schema, reason] of cases) {
      const dir = await savedPackage([stage], schema);
      made.push(dir);
      await assert.rejects(serve(dir, []), (e: unknown) => reason.test((e as Error).message), stage.uid);
    }
  });
});
