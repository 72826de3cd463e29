// AFTSurvivalRegressionModel: the Weibull scale as prediction and the lifetime quantiles,
// checked against PySpark's docstring and the R survreg predictions Spark's suite cites.
//   node --import tsx --test test/unit/spark/survival.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { denseVectorColumn } from '../../../scripts/examples/spark-writer.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { doubleColumn, serveModel, type ModelLayout } from './model-packages.js';

const AFT = 'org.apache.spark.ml.regression.AFTSurvivalRegressionModel';

/** Spark's AFT data schema: coefficients vector, intercept double, scale double. */
function aftModel(coefficients: number[], intercept: number, scale: number, paramMap: Record<string, unknown>, sparkVersion = '3.5.1'): ModelLayout {
  return {
    class: AFT,
    sparkVersion,
    paramMap,
    defaultParamMap: {
      featuresCol: 'features',
      predictionCol: 'prediction',
      labelCol: 'label',
      censorCol: 'censor',
      quantileProbabilities: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99],
    },
    folders: { data: [denseVectorColumn('coefficients', [coefficients]), doubleColumn('intercept', [intercept]), doubleColumn('scale', [scale])] },
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

function relClose(got: number, want: number, tol: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tol * Math.abs(want), `${what}: ${got}, expected ${want} within ${tol} relative`);
}

describe('AFTSurvivalRegressionModel', () => {
  // PySpark AFTSurvivalRegression docstring: the fitted model has coefficients [0.0],
  // intercept 0.0, scale 1.0; predict(6.3) is 1.0 and predictQuantiles(6.3) prints
  // [0.0101, 0.0513, 0.1054, 0.2877, 0.6931, 1.3863, 2.3026, 2.9957, 4.6052] for the default
  // quantileProbabilities.
  test('PySpark docstring: prediction 1.0 and the nine default quantiles, to the 4 printed decimals', async () => {
    for (const version of ['2.4.8', '3.5.1', '4.0.0']) {
      const [out] = await serve(aftModel([0.0], 0.0, 1.0, { quantilesCol: 'quantiles' }, version), [{ features: [6.3] }]);
      assert.ok(!isRejection(out), JSON.stringify(out));
      assert.equal(out!.prediction, 1.0);
      const printed = [0.0101, 0.0513, 0.1054, 0.2877, 0.6931, 1.3863, 2.3026, 2.9957, 4.6052];
      assert.deepEqual(
        (out!.quantiles as number[]).map((q) => Math.round(q * 1e4) / 1e4),
        printed,
        version,
      );
    }
  });

  // Spark's AFTSurvivalRegressionSuite, "aft survival regression with multivariate": R's
  // survreg fit prints intercept 1.9206, coefficients (-0.0844, 0.0677), scale 0.977, and for
  // features (2.233396950271428, -2.5321374085997683) predicts 4.761219 and quantiles
  // (0.5287044, 3.3285858, 10.7517072) at p = (0.1, 0.5, 0.9). The suite holds Spark to
  // 1e-3 relative of R; the coefficients are printed to 4 digits, so that is the bound here too.
  test('Spark suite (R survreg, multivariate): prediction and quantiles within 1e-3 relative, in 3.x and 4.x', async () => {
    for (const version of ['3.5.1', '4.0.0']) {
      const model = aftModel([-0.0844, 0.0677], 1.9206, 0.977, { quantilesCol: 'quantiles', quantileProbabilities: [0.1, 0.5, 0.9] }, version);
      const [out] = await serve(model, [{ features: [2.233396950271428, -2.5321374085997683] }]);
      assert.ok(!isRejection(out), JSON.stringify(out));
      relClose(out!.prediction as number, 4.761219, 1e-3, `${version} prediction`);
      const want = [0.5287044, 3.3285858, 10.7517072];
      (out!.quantiles as number[]).forEach((q, k) => relClose(q, want[k]!, 1e-3, `${version} quantile ${k}`));
    }
  });

  // Same suite, "aft survival regression w/o intercept": R prints coefficients (0.896,
  // -0.709), scale 1.52; prediction 44.54465, quantiles (1.452103, 25.506077, 158.428600).
  // Three printed digits of a coefficient times features of size ~2.5 leave about 3e-3.
  test('Spark suite (R survreg, no intercept): prediction and quantiles within the printed coefficients\' precision', async () => {
    const model = aftModel([0.896, -0.709], 0.0, 1.52, { quantilesCol: 'q', quantileProbabilities: [0.1, 0.5, 0.9] });
    const [out] = await serve(model, [{ features: [2.233396950271428, -2.5321374085997683] }]);
    assert.ok(!isRejection(out), JSON.stringify(out));
    relClose(out!.prediction as number, 44.54465, 3e-3, 'prediction');
    const want = [1.452103, 25.506077, 158.4286];
    (out!.q as number[]).forEach((q, k) => relClose(q, want[k]!, 3e-3, `quantile ${k}`));
  });

  test('without quantilesCol the message holds the prediction only', async () => {
    assert.deepEqual(await serve(aftModel([0.0], 0.0, 1.0, {}), [{ features: [6.3] }]), [{ prediction: 1.0 }]);
  });

  test('a quantile probability outside (0, 1) refuses the package', async () => {
    await assert.rejects(
      serveModel(aftModel([0.0], 0.0, 1.0, { quantilesCol: 'q', quantileProbabilities: [0.5, 1.0] }), { input_schema: { features: 'VECTOR' } }),
      /quantileProbabilities \[0.5, 1\] must lie in \(0, 1\)/,
    );
  });
});
