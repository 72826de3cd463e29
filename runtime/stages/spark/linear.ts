import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { generalizedLinearRegression } from './glm.js';
import { scorerFromMatrix, scorerFromVector, type LinearScorer } from './linear-scorer.js';
import {
  classifierStage,
  readThresholds,
  regressorStage,
  requireSize,
  savedVersion,
  softmax,
  thresholdRules,
  type ProbabilisticCore,
} from './predictors.js';
import { atLeast, type SparkVersion } from './stage-helpers.js';
import { denseFromStruct, vectorFromStruct } from './udt.js';

const CLS = 'org.apache.spark.ml.classification.';
const REG = 'org.apache.spark.ml.regression.';

async function singleRow(ctx: StageContext): Promise<Record<string, unknown>> {
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  return rows[0]!;
}

/** LinearSVCModel: margin = w·x + b, rawPrediction [-m, m], prediction m > threshold. No probability. */
const linearSvc: StageFactory = async (ctx) => {
  const row = await singleRow(ctx);
  const scorer = scorerFromVector(vectorFromStruct(row.coefficients), Number(row.intercept));
  const threshold = ctx.params.number('threshold', 0.0);
  return classifierStage(ctx, {
    numClasses: 2,
    checkFeatures: (x) => requireSize(x, scorer.numFeatures),
    predictRaw(x, out) {
      const m = scorer.score1(x);
      out[0] = -m;
      out[1] = m;
    },
    raw2prediction: (raw) => (raw[1]! > threshold ? 1 : 0),
    predict: (x) => (scorer.score1(x) > threshold ? 1 : 0),
  });
};

/** LogisticRegressionParams.getThreshold: `thresholds` (binary) wins over `threshold`, and both must agree. */
function binaryThreshold(ctx: StageContext): number {
  const { params } = ctx;
  const threshold = params.number('threshold', 0.5);
  if (!params.has('thresholds')) return threshold;
  const ts = params.numbers('thresholds');
  if (ts.length !== 2) throw new Error(`a binomial model needs 2 thresholds, got ${ts.length}`);
  const fromThresholds = 1.0 / (1.0 + ts[0]! / ts[1]!);
  // Saves before 2.4 write every param as set, so there `threshold` is only its default.
  const thresholdSet = params.isSet('threshold') && ctx.metadata.defaultParamMap !== undefined;
  if (thresholdSet && Math.abs(threshold - fromThresholds) > 1e-5) {
    throw new Error(`threshold ${threshold} and thresholds [${ts.join(', ')}] disagree`);
  }
  return fromThresholds;
}

function sigmoid(m: number): number {
  return 1.0 / (1.0 + Math.exp(-m));
}

function binomialLogistic(ctx: StageContext, scorer: LinearScorer, version: SparkVersion): ProbabilisticCore {
  const t = binaryThreshold(ctx);
  const rawThreshold = t === 0 ? -Infinity : t === 1 ? Infinity : Math.log(t / (1.0 - t));
  // Since 3.1 (SPARK-32455) the first probability is computed and the second is 1 minus it.
  const complement = atLeast(version, 3, 1);
  return {
    numClasses: 2,
    checkFeatures: (x) => requireSize(x, scorer.numFeatures),
    predictRaw(x, out) {
      const m = scorer.score1(x);
      out[0] = -m;
      out[1] = m;
    },
    raw2probability(raw, out) {
      out[0] = sigmoid(raw[0]!);
      out[1] = complement ? 1.0 - out[0] : sigmoid(raw[1]!);
    },
    raw2prediction: (raw) => (raw[1]! > rawThreshold ? 1 : 0),
    probability2prediction: (p) => (p[1]! > t ? 1 : 0),
    predict: (x) => (sigmoid(scorer.score1(x)) > t ? 1 : 0),
  };
}

/** The softmax of LogisticRegressionModel before 3.2: shifts only by a positive max and scales by 1/sum. */
function legacyLogisticSoftmax(raw: Float64Array, out: Float64Array): void {
  let best = 0;
  for (let k = 1; k < raw.length; k++) if (raw[k]! > raw[best]!) best = k;
  const maxMargin = raw[best]!;
  if (maxMargin === Infinity) {
    out.fill(0);
    out[best] = 1.0;
    return;
  }
  let sum = 0;
  for (let k = 0; k < raw.length; k++) {
    out[k] = maxMargin > 0 ? Math.exp(raw[k]! - maxMargin) : Math.exp(raw[k]!);
    sum += out[k]!;
  }
  const scale = 1 / sum;
  for (let k = 0; k < raw.length; k++) out[k] = scale * out[k]!;
}

function multinomialLogistic(ctx: StageContext, scorer: LinearScorer, version: SparkVersion): ProbabilisticCore {
  const raw2probability = atLeast(version, 3, 2) ? softmax : legacyLogisticSoftmax;
  const rules = thresholdRules(readThresholds(ctx, scorer.numOutputs), raw2probability);
  const core: ProbabilisticCore = {
    numClasses: scorer.numOutputs,
    checkFeatures: (x) => requireSize(x, scorer.numFeatures),
    predictRaw: (x, out) => scorer.score(x, out),
    raw2probability,
    ...rules,
    predict(x) {
      const raw = new Float64Array(scorer.numOutputs);
      scorer.score(x, raw);
      return rules.raw2prediction(raw);
    },
  };
  return core;
}

/**
 * LogisticRegressionModel. 2.1+ saves `coefficientMatrix` (possibly sparse, row-major) and
 * `interceptVector`; 2.0 saved a binomial `coefficients` vector and `intercept`.
 */
const logisticRegression: StageFactory = async (ctx) => {
  const row = await singleRow(ctx);
  const version = savedVersion(ctx);
  if (!('coefficientMatrix' in row)) {
    const scorer = scorerFromVector(vectorFromStruct(row.coefficients), Number(row.intercept));
    return classifierStage(ctx, binomialLogistic(ctx, scorer, version));
  }
  const intercepts = Float64Array.from(denseFromStruct(row.interceptVector));
  const scorer = scorerFromMatrix(row.coefficientMatrix, intercepts);
  const numClasses = Number(row.numClasses);
  if (row.isMultinomial) {
    if (scorer.numOutputs !== numClasses) throw new Error(`${scorer.numOutputs} coefficient rows for ${numClasses} classes`);
    return classifierStage(ctx, multinomialLogistic(ctx, scorer, version));
  }
  if (scorer.numOutputs !== 1) throw new Error(`a binomial model has ${scorer.numOutputs} coefficient rows`);
  return classifierStage(ctx, binomialLogistic(ctx, scorer, version));
};

/** LinearRegressionModel: w·x + b (`scale` only matters for training with huber loss). */
const linearRegression: StageFactory = async (ctx) => {
  const row = await singleRow(ctx);
  const scorer = scorerFromVector(vectorFromStruct(row.coefficients), Number(row.intercept));
  return regressorStage(ctx, {
    checkFeatures: (x) => requireSize(x, scorer.numFeatures),
    predict: (x) => scorer.score1(x),
  });
};

export const linearStages: Record<string, StageFactory> = {
  [CLS + 'LinearSVCModel']: linearSvc,
  [CLS + 'LogisticRegressionModel']: logisticRegression,
  [REG + 'LinearRegressionModel']: linearRegression,
  [REG + 'GeneralizedLinearRegressionModel']: generalizedLinearRegression,
};
