// Feature transformers added for issue 17b, served from packages in Spark's on-disk layout.
// Every expected number is Spark's: a real export's outputs (hydro21-dct) or the outputs
// Spark's docs, examples and test suites print, cited at each test.
//   node --import tsx --test test/unit/spark/feature-transforms.test.ts
import assert from 'node:assert/strict';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCodes } from '../../../runtime/errors.js';
import { PackageError } from '../../../runtime/packages/errors.js';
import { loadPackage } from '../../../runtime/packages/package.js';
import { isSparse } from '../../../runtime/pipeline/frame.js';
import { buildFrame } from '../../../runtime/pipeline/input-schema.js';
import { denseVectorColumn } from '../../../scripts/examples/spark-writer.js';
import { compareKnownVectors } from '../../conformance/compare.js';
import { readCsv } from '../../conformance/csv.js';
import { sparkRegistry } from '../../conformance/runner.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { sparkFixturesDir } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/packages.js';
import { intArrayColumn, removePackage, savedPackage, serve, stringArrayColumn, type SavedStage } from './saved-package.js';

const ML = 'org.apache.spark.ml.feature.';
const catalogueDir = join(dirname(sparkFixturesDir), 'spark-catalogue');
const skipWithoutCatalogue = existsSync(catalogueDir) ? false : `Spark catalogue fixtures not found at ${catalogueDir}`;

const made: string[] = [];
after(() => made.forEach(removePackage));

async function run(stages: SavedStage[], schema: Record<string, string>, records: Record<string, unknown>[]): Promise<Outcome[]> {
  const dir = await savedPackage(stages, schema);
  made.push(dir);
  return serve(dir, records);
}

function predictions(outcomes: Outcome[]): unknown[] {
  return outcomes.map((o) => (isRejection(o) ? o : o.prediction));
}

/** Every element within 1e-9 relative (absolute below 1), the conformance tolerance, unless a looser absolute one is given. */
function assertVectorsClose(got: unknown[], want: number[][], absTol?: number): void {
  assert.equal(got.length, want.length);
  want.forEach((w, i) => {
    const g = got[i] as number[];
    assert.ok(Array.isArray(g), `row ${i}: ${JSON.stringify(g)}`);
    assert.equal(g.length, w.length, `row ${i} size`);
    w.forEach((x, k) => assert.ok(Math.abs(g[k]! - x) <= (absTol ?? 1e-9 * Math.max(1, Math.abs(x))), `row ${i}[${k}]: ${g[k]} vs Spark ${x}`));
  });
}

describe('DCT', () => {
  test('the hydro21-dct export gives the outputs Spark printed for its docs example', { skip: skipWithoutCatalogue }, async () => {
    const fixture = join(catalogueDir, 'hydro21-dct');
    const dir = tempDir('mlstream-17b-');
    made.push(dir);
    cpSync(fixture, dir, { recursive: true, filter: (src) => !src.includes('/sample') });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { features: 'VECTOR' }, output_labels: {} }));
    const input = readCsv(join(fixture, 'sample', 'input-spark-docs-example.csv'));
    const expected = readCsv(join(fixture, 'sample', 'expected-spark-docs-example.csv'));
    const records = input.rows.map((r) => ({ features: JSON.parse(r[0]!) as number[] }));
    const got = predictions(await serve(dir, records)) as (number[] | null)[];
    const problems: string[] = [];
    const { sparkRows, matches } = compareKnownVectors(got, expected.rows.map((r) => JSON.parse(r[0]!) as number[]), problems);
    assert.deepEqual(problems, []);
    assert.equal(matches, sparkRows);
    assert.equal(sparkRows, 3);
  });

  test('inverse=true takes the docs example outputs back to its inputs', async () => {
    // Spark docs DCTExample: these three inputs give these outputs with inverse=false, so
    // the inverse transform (the orthonormal DCT-III) must take the outputs back.
    const inputs = [[0.0, 1.0, -2.0, 3.0], [-1.0, 2.0, 4.0, -7.0], [14.0, -2.0, -5.0, 1.0]];
    const outputs = [
      [1.0, -1.1480502970952693, 2.0000000000000004, -2.7716385975338604],
      [-1.0, 3.378492794482933, -7.000000000000001, 2.9301512653149677],
      [4.0, 9.304453421915744, 11.000000000000002, 1.5579302036357163],
    ];
    const stage = { class: ML + 'DCT', uid: 'dct_inverse', sparkVersion: '3.5.1', paramMap: { inverse: true, inputCol: 'f', outputCol: 'back' } };
    assertVectorsClose(predictions(await run([stage], { f: 'VECTOR' }, outputs.map((f) => ({ f })))), inputs);
  });
});

describe('ElementwiseProduct', () => {
  test('multiplies by scalingVec as in the Spark docs example', async () => {
    // Spark docs ElementwiseProductExample: scalingVec [0, 1, 2]; [1,2,3] → [0,2,6], [4,5,6] → [0,5,12].
    const stage = {
      class: ML + 'ElementwiseProduct',
      uid: 'ElementwiseProduct_test',
      sparkVersion: '3.5.1',
      paramMap: { scalingVec: { type: 1, values: [0.0, 1.0, 2.0] }, inputCol: 'vector', outputCol: 'transformedVector' },
    };
    const out = await run([stage], { vector: 'VECTOR' }, [{ vector: [1, 2, 3] }, { vector: [4, 5, 6] }, { vector: [1, 2] }]);
    assert.deepEqual(predictions(out).slice(0, 2), [[0, 2, 6], [0, 5, 12]]);
    assert.ok(isRejection(out[2]) && out[2].rejected === ErrorCodes.PIPELINE_ERROR && /vector sizes do not match: Expected 3 but found 2/.test(out[2].message));
  });
});

describe('PolynomialExpansion', () => {
  const poly = (degree: number): SavedStage => ({ class: ML + 'PolynomialExpansion', uid: `poly_${degree}`, sparkVersion: '3.5.1', paramMap: { degree, inputCol: 'features', outputCol: 'polyFeatures' } });

  test('expands to degree 3 in Spark term order, as the Spark docs example prints', async () => {
    // Spark docs PolynomialExpansionExample (degree 3) output column.
    const out = await run([poly(3)], { features: 'VECTOR' }, [{ features: [2, 1] }, { features: [0, 0] }, { features: [3, -1] }]);
    assert.deepEqual(predictions(out), [
      [2.0, 4.0, 8.0, 1.0, 2.0, 4.0, 1.0, 2.0, 1.0],
      [0, 0, 0, 0, 0, 0, 0, 0, 0],
      [3.0, 9.0, 27.0, -1.0, -3.0, -9.0, 1.0, 3.0, -1.0],
    ]);
  });

  test('expands sparse and dense rows to the vectors PolynomialExpansionSuite expects at degrees 2 and 3', async () => {
    // PolynomialExpansionSuite: data, twoDegreeExpansion and threeDegreeExpansion, compared
    // with the suite's own absTol 1e-1, since it writes its expectations rounded (2.3³ as 12.17).
    const data = [
      { features: { size: 3, indices: [0, 1], values: [-2.0, 2.3] } },
      { features: [-2.0, 2.3] },
      { features: [0.0, 0.0, 0.0] },
      { features: [0.6, -1.1, -3.0] },
      { features: { size: 3, indices: [], values: [] } },
    ];
    const zeros = (n: number) => new Array<number>(n).fill(0);
    assertVectorsClose(predictions(await run([poly(2)], { features: 'VECTOR' }, data)), [
      [-2.0, 4.0, 2.3, -4.6, 5.29, 0, 0, 0, 0],
      [-2.0, 4.0, 2.3, -4.6, 5.29],
      zeros(9),
      [0.6, 0.36, -1.1, -0.66, 1.21, -3.0, -1.8, 3.3, 9.0],
      zeros(9),
    ], 0.1);
    assertVectorsClose(predictions(await run([poly(3)], { features: 'VECTOR' }, data)), [
      [-2.0, 4.0, -8.0, 2.3, -4.6, 9.2, 5.29, -10.58, 12.17, ...zeros(10)],
      [-2.0, 4.0, -8.0, 2.3, -4.6, 9.2, 5.29, -10.58, 12.17],
      zeros(19),
      [0.6, 0.36, 0.216, -1.1, -0.66, -0.396, 1.21, 0.726, -1.331, -3.0, -1.8, -1.08, 3.3, 1.98, -3.63, 9.0, 5.4, -9.9, -27.0],
      zeros(19),
    ], 0.1);
  });

  test('sizes the output as SPARK-17027\'s test expects at degrees 10 and 11', async () => {
    // PolynomialExpansionSuite "SPARK-17027": 5 features → 3002 / 4367 terms, 6 features → 8007 / 12375.
    const data = [{ features: [1, 2, 3, 4, 5] }, { features: { size: 5, indices: [0, 4], values: [1, 5] } }, { features: [1, 2, 3, 4, 5, 6] }];
    const sizes = async (degree: number) => (predictions(await run([poly(degree)], { features: 'VECTOR' }, data)) as number[][]).map((v) => v.length);
    assert.deepEqual(await sizes(10), [3002, 3002, 8007]);
    assert.deepEqual(await sizes(11), [4367, 4367, 12375]);
  });

  test('a sparse row stays sparse and a dense one dense (PolynomialExpansionSuite\'s assertTypeOfVector)', async () => {
    const dir = await savedPackage([poly(2)], { features: 'VECTOR' });
    made.push(dir);
    const model = await loadPackage(dir, sparkRegistry());
    try {
      const records = [{ features: { size: 3, indices: [0, 1], values: [-2.0, 2.3] } }, { features: [-2.0, 2.3] }];
      const frame = await model.pipeline.run(buildFrame(records, model.fields));
      const [sparse, dense] = frame.getTyped('polyFeatures', 'vector').values;
      assert.ok(sparse && isSparse(sparse) && sparse.size === 9);
      assert.deepEqual([...sparse.indices], [0, 1, 2, 3, 4]);
      assert.ok(dense instanceof Float64Array && dense.length === 5);
    } finally {
      await model.pipeline.dispose();
    }
  });

  test('a row whose expansion would pass 2^24 terms fails alone instead of exhausting memory', async () => {
    // 1000 features to degree 3: C(1003, 3) - 1 = 167,668,500 terms.
    const out = await run([poly(3)], { features: 'VECTOR' }, [{ features: new Array<number>(1000).fill(1) }, { features: [2, 1] }]);
    assert.ok(isRejection(out[0]) && out[0].rejected === ErrorCodes.PIPELINE_ERROR && /has 167668500 terms, over the 16777216/.test(out[0].message), JSON.stringify(out[0]).slice(0, 200));
    assert.deepEqual(predictions(out)[1], [2.0, 4.0, 8.0, 1.0, 2.0, 4.0, 1.0, 2.0, 1.0]);
  });
});

describe('FeatureHasher', () => {
  test('hashes numeric, boolean and string columns to the indices the Spark docs example prints', async () => {
    // Spark docs FeatureHasherExample (numFeatures 2^18 by default):
    //  (262144,[174475,247670,257907,262126],[2.2,1.0,1.0,1.0])
    //  (262144,[70644,89673,173866,174475],[1.0,1.0,1.0,3.3])
    //  (262144,[22406,70644,174475,187923],[1.0,1.0,4.4,1.0])
    //  (262144,[70644,101499,174475,257907],[1.0,1.0,5.5,1.0])
    const stage = { class: ML + 'FeatureHasher', uid: 'FeatureHasher_test', sparkVersion: '3.5.1', paramMap: { inputCols: ['real', 'bool', 'stringNum', 'string'], outputCol: 'features' } };
    const records = [
      { real: 2.2, bool: true, stringNum: '1', string: 'foo' },
      { real: 3.3, bool: false, stringNum: '2', string: 'bar' },
      { real: 4.4, bool: false, stringNum: '3', string: 'baz' },
      { real: 5.5, bool: false, stringNum: '4', string: 'foo' },
    ];
    const out = predictions(await run([stage], { real: 'DOUBLE', bool: 'BOOLEAN', stringNum: 'STRING', string: 'STRING' }, records)) as number[][];
    const entries = out.map((v) => v.flatMap((x, i) => (x !== 0 ? [[i, x]] : [])));
    assert.equal(out[0]!.length, 262144);
    assert.deepEqual(entries, [
      [[174475, 2.2], [247670, 1], [257907, 1], [262126, 1]],
      [[70644, 1], [89673, 1], [173866, 1], [174475, 3.3]],
      [[22406, 1], [70644, 1], [174475, 4.4], [187923, 1]],
      [[70644, 1], [101499, 1], [174475, 5.5], [257907, 1]],
    ]);
  });
});

describe('FeatureHasher categoricalCols and nulls', () => {
  test('a numeric column listed in categoricalCols hashes "real=2.0", as the pyspark docstring prints', async () => {
    // pyspark FeatureHasher docstring, first row (2.0, True, "1", "foo"):
    //   all numeric: SparseVector(262144, {174475: 2.0, 247670: 1.0, 257907: 1.0, 262126: 1.0})
    //   categoricalCols ["real"]: SparseVector(262144, {171257: 1.0, 247670: 1.0, 257907: 1.0, 262126: 1.0})
    // and its description: null values are ignored (implicitly zero in the resulting vector).
    const hasher = (params: Record<string, unknown>): SavedStage => ({
      class: ML + 'FeatureHasher',
      uid: 'FeatureHasher_cat',
      sparkVersion: '3.5.1',
      paramMap: { inputCols: ['real', 'bool', 'stringNum', 'string'], outputCol: 'features', ...params },
    });
    const schema = { real: 'DOUBLE?', bool: 'BOOLEAN', stringNum: 'STRING', string: 'STRING' };
    const records = [{ real: 2.0, bool: true, stringNum: '1', string: 'foo' }, { real: null, bool: true, stringNum: '1', string: 'foo' }];
    const entries = (out: Outcome[]) => (predictions(out) as number[][]).map((v) => v.flatMap((x, i) => (x !== 0 ? [[i, x]] : [])));
    const numeric = entries(await run([hasher({})], schema, records));
    assert.deepEqual(numeric[0], [[174475, 2], [247670, 1], [257907, 1], [262126, 1]]);
    assert.deepEqual(numeric[1], [[247670, 1], [257907, 1], [262126, 1]]);
    const categorical = entries(await run([hasher({ categoricalCols: ['real'] })], schema, records));
    assert.deepEqual(categorical[0], [[171257, 1], [247670, 1], [257907, 1], [262126, 1]]);
  });
});

describe('RobustScalerModel', () => {
  // RobustScalerSuite: data [0,0] … [4,-4] has median [2,-2] and quantile range [2,2]; the
  // suite's expected outputs (checked there against scikit-learn's RobustScaler) follow.
  const data = [[0, 0], [1, -1], [2, -2], [3, -3], [4, -4]];
  const saved = (params: Record<string, unknown>): SavedStage => ({
    class: ML + 'RobustScalerModel',
    uid: 'RobustScaler_test',
    sparkVersion: '3.5.1',
    paramMap: { inputCol: 'features', outputCol: 'scaled', ...params },
    defaultParamMap: { withCentering: false, withScaling: true, lower: 0.25, upper: 0.75, relativeError: 0.001 },
    data: [denseVectorColumn('range', [[2, 2]]), denseVectorColumn('median', [[2, -2]])],
  });
  const records = data.map((features) => ({ features }));

  test('scales by 1/range by default and centres on the median when asked', async () => {
    const scaling = predictions(await run([saved({})], { features: 'VECTOR' }, records));
    assert.deepEqual(scaling, [[0, 0], [0.5, -0.5], [1, -1], [1.5, -1.5], [2, -2]]);
    const both = predictions(await run([saved({ withCentering: true, withScaling: true })], { features: 'VECTOR' }, records));
    assert.deepEqual(both, [[-1, 1], [-0.5, 0.5], [0, 0], [0.5, -0.5], [1, -1]]);
    const centering = predictions(await run([saved({ withCentering: true, withScaling: false })], { features: 'VECTOR' }, records));
    assert.deepEqual(centering, [[-2, 2], [-1, 1], [0, 0], [1, -1], [2, -2]]);
    const neither = predictions(await run([saved({ withCentering: false, withScaling: false })], { features: 'VECTOR' }, records));
    assert.deepEqual(neither, data);
  });

  test('centres a sparse row as it centres the dense one (the suite\'s "sparse data and withCentering")', async () => {
    const sparse = { features: { size: 2, indices: [0, 1], values: [4, -4] } };
    const out = predictions(await run([saved({ withCentering: true, withScaling: false })], { features: 'VECTOR' }, [sparse]));
    assert.deepEqual(out, [[2, -2]]);
  });
});

describe('UnivariateFeatureSelectorModel and VarianceThresholdSelectorModel', () => {
  test('UnivariateFeatureSelectorModel keeps the feature its fit selected', async () => {
    // pyspark ml tests test_univariate_selector: on these three rows (continuous features,
    // categorical label, threshold 1) the model selects [3]; ChiSqSelector's docstring shows
    // the same selection giving DenseVector([1.0]) for the first row.
    const stage: SavedStage = {
      class: ML + 'UnivariateFeatureSelectorModel',
      uid: 'UnivariateFeatureSelector_test',
      sparkVersion: '3.5.1',
      paramMap: { outputCol: 'selectedFeatures', featureType: 'continuous', labelType: 'categorical', selectionThreshold: 1 },
      defaultParamMap: { featuresCol: 'features', labelCol: 'label', selectionMode: 'numTopFeatures' },
      data: [intArrayColumn('selectedFeatures', [[3]])],
    };
    const out = await run([stage], { features: 'VECTOR' }, [{ features: [0, 0, 18, 1] }, { features: [0, 1, 12, 0] }, { features: [1, 0, 15, 0.1] }]);
    assert.deepEqual(predictions(out), [[1], [0], [0.1]]);
  });

  test('VarianceThresholdSelectorModel keeps features 0, 3 and 5 as the pyspark docstring shows', async () => {
    // pyspark VarianceThresholdSelector docstring (threshold 8.2): selectedFeatures [0, 3, 5];
    // the first row [6,7,0,7,6,0] becomes DenseVector([6.0, 7.0, 0.0]).
    const stage: SavedStage = {
      class: ML + 'VarianceThresholdSelectorModel',
      uid: 'VarianceThresholdSelector_test',
      sparkVersion: '3.5.1',
      paramMap: { varianceThreshold: 8.2, outputCol: 'selectedFeatures' },
      defaultParamMap: { featuresCol: 'features', varianceThreshold: 0.0 },
      data: [intArrayColumn('selectedFeatures', [[0, 3, 5]])],
    };
    const out = await run([stage], { features: 'VECTOR' }, [{ features: [6, 7, 0, 7, 6, 0] }]);
    assert.deepEqual(predictions(out), [[6, 7, 0]]);
  });
});

describe('OneHotEncoder (the Spark 2.x transformer)', () => {
  // Spark 2.x docs OneHotEncoderExample: categories a, b, c, a, a, c indexed by frequency
  // (a→0, c→1, b→2), then encoded with dropLast: (2,[0],[1.0]), (2,[],[]), (2,[1],[1.0]), …
  const indexer: SavedStage = {
    class: ML + 'StringIndexerModel',
    uid: 'strIdx_6b3ab5a7a1b5',
    sparkVersion: '2.2.0',
    paramMap: { handleInvalid: 'error', inputCol: 'category', outputCol: 'categoryIndex' },
    data: [stringArrayColumn('labels', [['a', 'c', 'b']])],
  };
  const encoder: SavedStage = { class: ML + 'OneHotEncoder', uid: 'oneHot_3d2fa4b0cd05', sparkVersion: '2.2.0', paramMap: { inputCol: 'categoryIndex', outputCol: 'categoryVec', dropLast: true } };

  test('sizes the vector from the StringIndexerModel before it, dropping the last category', async () => {
    const out = await run([indexer, encoder], { category: 'STRING' }, ['a', 'b', 'c', 'a', 'a', 'c'].map((category) => ({ category })));
    assert.deepEqual(predictions(out), [[1, 0], [0, 0], [0, 1], [1, 0], [1, 0], [0, 1]]);
  });

  test('sizes the vector from a Bucketizer before it (its buckets)', async () => {
    // Spark 2.x docs BucketizerExample: splits [-Inf, -0.5, 0.0, 0.5, Inf] put -999.9, -0.5,
    // -0.3, 0.0, 0.2, 999.9 in buckets 0, 1, 1, 2, 2, 3. Its 4 buckets make the encoder's
    // vectors 3 long with dropLast, bucket 3 the all-zero one.
    const bucketizer: SavedStage = {
      class: ML + 'Bucketizer',
      uid: 'bucketizer_5c8d1b8f31a3',
      sparkVersion: '2.2.0',
      paramMap: { splits: ['-Inf', -0.5, 0.0, 0.5, 'Inf'], inputCol: 'features', outputCol: 'bucketedFeatures', handleInvalid: 'error' },
    };
    const bucketEncoder: SavedStage = { ...encoder, paramMap: { inputCol: 'bucketedFeatures', outputCol: 'bucketVec', dropLast: true } };
    const out = await run([bucketizer, bucketEncoder], { features: 'DOUBLE' }, [-999.9, -0.5, -0.3, 0.0, 0.2, 999.9].map((features) => ({ features })));
    assert.deepEqual(predictions(out), [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0]]);
  });

  test('a OneHotEncoder saved by Spark 3+ (the unfitted estimator) is refused, saying so', async () => {
    const estimator: SavedStage = { ...encoder, sparkVersion: '3.5.1', paramMap: { inputCols: ['categoryIndex'], outputCols: ['categoryVec'] } };
    const dir = await savedPackage([indexer, estimator], { category: 'STRING' });
    made.push(dir);
    await assert.rejects(serve(dir, []), (e: unknown) => e instanceof PackageError && /OneHotEncoder is the unfitted estimator/.test(e.message));
  });

  test('a package whose encoder input no indexer writes is refused, naming the column', async () => {
    const dir = await savedPackage([encoder], { categoryIndex: 'DOUBLE' });
    made.push(dir);
    await assert.rejects(serve(dir, []), (e: unknown) => e instanceof PackageError && /categories of column "categoryIndex" is unknown/.test(e.message));
  });
});
