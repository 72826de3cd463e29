// IsotonicRegressionModel: Spark's clamping, exact-hit and interpolation rules, increasing
// and decreasing, checked against a real export's outputs and against Spark's test suite.
//   node --import tsx --test test/unit/spark/isotonic.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { booleanColumn, int32Column } from '../../../scripts/examples/spark-writer.js';
import { compareWithSpark } from '../../conformance/compare.js';
import { deriveConfig, sparkOutputsLayout } from '../../conformance/layout.js';
import { isRejection } from '../../conformance/types.js';
import { catalogueFixture, loadCatalogueFixture, skipWithoutCatalogue } from './catalogue-package.js';
import { doubleArrayColumn, serveModel, type ModelLayout } from './model-packages.js';

const ISOTONIC = 'org.apache.spark.ml.regression.IsotonicRegressionModel';

/** A saved model with Spark's data schema (boundaries, predictions: array<double>; isotonic: boolean). */
function isotonicModel(boundaries: number[], predictions: number[], isotonic: boolean, paramMap: Record<string, unknown> = {}): ModelLayout {
  return {
    class: ISOTONIC,
    paramMap: { isotonic, ...paramMap },
    defaultParamMap: { isotonic: true, labelCol: 'label', featuresCol: 'features', predictionCol: 'prediction', featureIndex: 0 },
    folders: { data: [doubleArrayColumn('boundaries', [boundaries]), doubleArrayColumn('predictions', [predictions]), booleanColumn('isotonic', [isotonic])] },
  };
}

async function predictions(model: ModelLayout, xs: number[]): Promise<unknown[]> {
  const served = await serveModel(model, { input_schema: { features: 'VECTOR' } });
  try {
    const out = await served.run(xs.map((x) => ({ features: [x] })));
    return out.map((o) => (isRejection(o) ? o : o.prediction));
  } finally {
    await served.close();
  }
}

describe('IsotonicRegressionModel', () => {
  test('jpmml35-auto-isotonic-incr matches all 392 of Spark 3.5.4 outputs within 1e-9', { skip: skipWithoutCatalogue }, async () => {
    const dir = catalogueFixture('jpmml35-auto-isotonic-incr');
    const layout = sparkOutputsLayout(dir)!;
    const config = await deriveConfig(dir, layout);
    const served = await loadCatalogueFixture('jpmml35-auto-isotonic-incr', config);
    try {
      const result = await compareWithSpark(layout, config, served.run);
      assert.deepEqual(result.problems, []);
      assert.equal(result.records, 392);
      assert.equal(result.matches, 392);
    } finally {
      await served.close();
    }
  });

  // Spark's mllib IsotonicRegressionSuite, "isotonic regression prediction": labels
  // (1, 2, 7, 1, 2) at x = 0..4 fit to boundaries (0, 1, 2, 4) and predictions (1, 2, 10/3,
  // 10/3) (pool adjacent violators pools 7, 1, 2); the suite asserts the predictions below.
  test('increasing: clamps below and above, interpolates between, takes the prediction on a boundary (Spark suite)', async () => {
    const model = isotonicModel([0, 1, 2, 4], [1, 2, 10 / 3, 10 / 3], true);
    assert.deepEqual(await predictions(model, [-2, -1, 0.5, 0.75, 1, 2, 9]), [1, 1, 1.5, 1.75, 2, 10 / 3, 10 / 3]);
  });

  // Same suite, "antitonic regression prediction": labels (7, 5, 3, 5, 1), isotonic=false,
  // fit to boundaries 0..4 and predictions (7, 5, 4, 4, 1).
  test('decreasing (isotonic=false) follows the same rules (Spark suite)', async () => {
    const model = isotonicModel([0, 1, 2, 3, 4], [7, 5, 4, 4, 1], false);
    assert.deepEqual(await predictions(model, [-2, -1, 0.5, 0.75, 1, 2, 9]), [7, 7, 6, 5.5, 5, 4, 1]);
  });

  // Same suite, "model construction": boundaries (0, 1), predictions (1, 2).
  test('a two-point model: 0.5 gives 1.5 and the ends clamp (Spark suite)', async () => {
    assert.deepEqual(await predictions(isotonicModel([0, 1], [1, 2], true), [-0.5, 0, 0.5, 1, 1.5]), [1, 1, 1.5, 2, 2]);
  });

  test('featureIndex picks the vector element the model reads', async () => {
    const model = isotonicModel([0, 1], [1, 2], true, { featureIndex: 1 });
    const served = await serveModel(model, { input_schema: { features: 'VECTOR' } });
    try {
      const [ok, short] = await served.run([{ features: [100, 0.5] }, { features: [0.5] }]);
      assert.deepEqual(ok, { prediction: 1.5 });
      assert.ok(isRejection(short) && /featureIndex 1 is outside a features vector of size 1/.test(short.message), JSON.stringify(short));
    } finally {
      await served.close();
    }
  });

  test('a double features column is read as it is; a null gives a null prediction', async () => {
    const served = await serveModel(isotonicModel([0, 1], [1, 2], true), { input_schema: { features: 'DOUBLE?' } });
    try {
      assert.deepEqual(await served.run([{ features: 0.25 }, { features: null }]), [{ prediction: 1.25 }, { prediction: null }]);
    } finally {
      await served.close();
    }
  });

  test('predictions out of order for the direction refuse the package', async () => {
    await assert.rejects(serveModel(isotonicModel([0, 1], [2, 1], true), { input_schema: { features: 'VECTOR' } }), /predictions \(2, 1\) are not ordered/);
  });

  test('data/ must hold the columns Spark writes', async () => {
    const broken: ModelLayout = { ...isotonicModel([0], [1], true), folders: { data: [int32Column('boundaries', [0])] } };
    await assert.rejects(serveModel(broken, { input_schema: { features: 'VECTOR' } }), /IsotonicRegressionModel: data\/ has no boundaries array/);
  });
});
