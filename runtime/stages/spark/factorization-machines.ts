/**
 * FMClassificationModel and FMRegressionModel (Spark 3.0+): a factorization machine,
 *   y = w0 + w·x + Σ_{i<j} ⟨v_i, v_j⟩ x_i x_j,
 * computed as Spark's FactorizationMachines.getRawPrediction does, in O(k·nnz):
 * w0 + w·x, then for each factor f, + ½((Σ v_if x_i)² − Σ (v_if x_i)²) over the non-zero
 * features. Data: `intercept` double, `linear` vector, `factors` matrix (numFeatures × k).
 * The classifier's rawPrediction is [−y, y], its probability [1 − σ(y), σ(y)].
 */
import { vectorSize, type Vector } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { dotVectors, forEachActive } from './linalg.js';
import { classifierStage, readThresholds, regressorStage, requireSize, thresholdRules } from './predictors.js';
import { matrixFromStruct, vectorFromStruct, type DenseMatrix } from './udt.js';

const CLS = 'org.apache.spark.ml.classification.';
const REG = 'org.apache.spark.ml.regression.';

interface FactorizationMachine {
  readonly numFeatures: number;
  rawPrediction(x: Vector): number;
}

async function readMachine(ctx: StageContext): Promise<FactorizationMachine> {
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  const row = rows[0]!;
  const intercept = Number(row.intercept);
  const linear = vectorFromStruct(row.linear);
  const factors: DenseMatrix = matrixFromStruct(row.factors);
  const numFeatures = vectorSize(linear);
  if (factors.numRows !== numFeatures) throw new Error(`factors has ${factors.numRows} rows for ${numFeatures} linear coefficients`);
  const k = factors.numCols;
  const v = factors.values;
  const sum = new Float64Array(k);
  const sumSquare = new Float64Array(k);
  return {
    numFeatures,
    rawPrediction(x) {
      let raw = intercept + dotVectors(x, linear);
      sum.fill(0);
      sumSquare.fill(0);
      // Spark loops factor by factor over the non-zeros; the per-factor sums are the same
      // additions in the same order when gathered in one pass.
      forEachActive(x, (index, value) => {
        if (value === 0) return;
        const row = index * k;
        for (let f = 0; f < k; f++) {
          const vx = v[row + f]! * value;
          sumSquare[f]! += vx * vx;
          sum[f]! += vx;
        }
      });
      for (let f = 0; f < k; f++) raw += 0.5 * (sum[f]! * sum[f]! - sumSquare[f]!);
      return raw;
    },
  };
}

const fmClassifier: StageFactory = async (ctx) => {
  const fm = await readMachine(ctx);
  const raw2probability = (raw: Float64Array, out: Float64Array): void => {
    out[1] = 1.0 / (1.0 + Math.exp(-raw[1]!));
    out[0] = 1.0 - out[1];
  };
  const rules = thresholdRules(readThresholds(ctx, 2), raw2probability);
  return classifierStage(ctx, {
    numClasses: 2,
    checkFeatures: (x) => requireSize(x, fm.numFeatures),
    predictRaw(x, out) {
      const y = fm.rawPrediction(x);
      out[0] = -y;
      out[1] = y;
    },
    raw2probability,
    ...rules,
    predict(x) {
      const y = fm.rawPrediction(x);
      return rules.raw2prediction(Float64Array.of(-y, y));
    },
  });
};

const fmRegressor: StageFactory = async (ctx) => {
  const fm = await readMachine(ctx);
  return regressorStage(ctx, {
    checkFeatures: (x) => requireSize(x, fm.numFeatures),
    predict: (x) => fm.rawPrediction(x),
  });
};

export const factorizationMachineStages: Record<string, StageFactory> = {
  [CLS + 'FMClassificationModel']: fmClassifier,
  [REG + 'FMRegressionModel']: fmRegressor,
};
