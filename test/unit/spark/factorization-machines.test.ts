// FMClassificationModel and FMRegressionModel: intercept, linear term and pairwise factor
// interactions, checked against PySpark's documented examples and Spark's formula, and
// a real FMClassifier export served end to end.
//   node --import tsx --test test/unit/spark/factorization-machines.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { denseVectorColumn, matrixColumn } from '../../../scripts/examples/spark-writer.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { loadCatalogueFixture, skipWithoutCatalogue } from './catalogue-package.js';
import { doubleColumn, serveModel, type ModelLayout } from './model-packages.js';

const FM_CLASSIFIER = 'org.apache.spark.ml.classification.FMClassificationModel';
const FM_REGRESSOR = 'org.apache.spark.ml.regression.FMRegressionModel';

/** Spark's FM data schema: intercept double, linear vector, factors matrix (numFeatures × factorSize, row-major). */
function fmModel(cls: string, intercept: number, linear: number[], factors: number[][], paramMap: Record<string, unknown> = {}): ModelLayout {
  return {
    class: cls,
    sparkVersion: '3.5.1',
    paramMap: { factorSize: factors[0]!.length, ...paramMap },
    defaultParamMap: { featuresCol: 'features', predictionCol: 'prediction', probabilityCol: 'probability', rawPredictionCol: 'rawPrediction', fitLinear: true, fitIntercept: true },
    folders: {
      data: [
        doubleColumn('intercept', [intercept]),
        denseVectorColumn('linear', [linear]),
        matrixColumn('factors', [{ type: 1, numRows: factors.length, numCols: factors[0]!.length, colPtrs: null, rowIndices: null, values: factors.flat(), isTransposed: true }]),
      ],
    },
  };
}

async function serve(model: ModelLayout, records: Record<string, unknown>[]): Promise<Outcome[]> {
  const served = await serveModel(model, { input_schema: { features: 'VECTOR' } });
  try {
    return await served.run(records);
  } finally {
    await served.close();
  }
}

function near(got: number, want: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tolerance, `${what}: ${got}, expected ${want} ± ${tolerance}`);
}

describe('factorization machines', () => {
  // PySpark FMClassifier docstring (3.x): the fitted model prints intercept
  // -7.316665276826291, linear [14.8232] (4 decimals) and factors [0.0163, -0.0051], and
  // transform(test0) prints the probabilities below. With one feature the pairwise term is
  // zero, and the 4-decimal linear term limits the agreement to about 1e-4.
  test('FMClassificationModel: the PySpark docstring probabilities, at the printed precision of its coefficients', async () => {
    const model = fmModel(FM_CLASSIFIER, -7.316665276826291, [14.8232], [[0.0163, -0.0051]]);
    const outputs = await serve(model, [{ features: [-1.0] }, { features: [0.5] }, { features: [1.0] }, { features: [2.0] }]);
    const docstring = [
      [0.9999999997574736, 2.425264676902229e-10],
      [0.47627851732981163, 0.5237214826701884],
      [5.491554426243495e-4, 0.9994508445573757],
      [2.005766663870645e-10, 0.9999999997994233],
    ];
    outputs.forEach((o, i) => {
      assert.ok(!isRejection(o), JSON.stringify(o));
      near(o.probability!['0']!, docstring[i]![0]!, 1e-4, `row ${i} p0`);
      near(o.probability!['1']!, docstring[i]![1]!, 1e-4, `row ${i} p1`);
      assert.equal(o.prediction, docstring[i]![1]! > 0.5 ? 1 : 0);
    });
  });

  // PySpark FMRegressor docstring: intercept -0.0032501766849261557, linear [0.9978]
  // (4 decimals), factors [0.0173, 0.0021]; transform(test0) prints the predictions below.
  test('FMRegressionModel: the PySpark docstring predictions, at the printed precision of its coefficients', async () => {
    const model = fmModel(FM_REGRESSOR, -0.0032501766849261557, [0.9978], [[0.0173, 0.0021]]);
    const outputs = await serve(model, [{ features: [-2.0] }, { features: [0.5] }, { features: [1.0] }, { features: [4.0] }]);
    const docstring = [-1.9989237712341565, 0.4956682219523814, 0.994586620589689, 3.9880970124135344];
    outputs.forEach((o, i) => {
      assert.ok(!isRejection(o), JSON.stringify(o));
      near(o.prediction as number, docstring[i]!, 4 * 5e-5, `row ${i}`);
    });
  });

  // Spark's FM formula (FMRegressor scaladoc): y = w0 + Σ w_i x_i + Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j.
  // By hand for w0 = 0.5, w = (1, 0, −1), v = ((1, 2), (3, −1), (0, 1)), x = (1, 2, 3):
  // 0.5 + (1 − 3) + ⟨v0,v1⟩·2 + ⟨v0,v2⟩·3 + ⟨v1,v2⟩·6 = 0.5 − 2 + 1·2 + 2·3 + (−1)·6 = 0.5.
  // The stage computes the O(k·nnz) form, so this checks the two agree; zeros in x drop out.
  test('the pairwise term equals Spark\'s Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j, dense or sparse input', async () => {
    const model = fmModel(FM_REGRESSOR, 0.5, [1, 0, -1], [[1, 2], [3, -1], [0, 1]]);
    const outputs = await serve(model, [{ features: [1, 2, 3] }, { features: { size: 3, indices: [0, 2], values: [1, 3] } }]);
    // Second row, x = (1, 0, 3): 0.5 + (1 − 3) + ⟨v0,v2⟩·3 = 0.5 − 2 + 6 = 4.5.
    assert.deepEqual(outputs, [{ prediction: 0.5 }, { prediction: 4.5 }]);
  });

  test('a features vector of the wrong size fails its row and names both sizes', async () => {
    const [bad, good] = await serve(fmModel(FM_REGRESSOR, 0.5, [1, 0, -1], [[1, 2], [3, -1], [0, 1]]), [{ features: [1, 2] }, { features: [1, 2, 3] }]);
    assert.ok(isRejection(bad) && /features vector has size 2, the model expects 3/.test(bad.message), JSON.stringify(bad));
    assert.deepEqual(good, { prediction: 0.5 });
  });

  test('mpabon-airbnb-fm (a real Spark 3.5.3 FMClassifier, 68 features, factorSize 10) serves probabilities that sum to 1 and agree with its prediction', { skip: skipWithoutCatalogue }, async () => {
    const served = await loadCatalogueFixture('mpabon-airbnb-fm', { input_schema: { features: 'VECTOR' }, output_labels: {} });
    try {
      const records = [{ features: new Array(68).fill(0) }, { features: { size: 68, indices: [0, 5, 30, 67], values: [1, 2, 0.5, 1] } }];
      const outputs = await served.run(records);
      for (const o of outputs) {
        assert.ok(!isRejection(o), JSON.stringify(o));
        const p = o.probability!;
        near(p['0']! + p['1']!, 1, 1e-15, 'probability sum');
        assert.equal(o.prediction, p['1']! > p['0']! ? 1 : 0);
      }
      // An all-zero vector leaves only the intercept: σ(−0.08108252543774952), read from data/.
      const interceptOnly = outputs[0]!;
      assert.ok(!isRejection(interceptOnly));
      near(interceptOnly.probability!['1']!, 1 / (1 + Math.exp(0.08108252543774952)), 1e-15, 'intercept only');
    } finally {
      await served.close();
    }
  });
});
