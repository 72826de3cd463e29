import { vectorAt, type Vector } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { scorerFromMatrix, type LinearScorer } from './linear-scorer.js';
import {
  classifierStage,
  readThresholds,
  requireSize,
  RowError,
  savedVersion,
  softmax,
  thresholdRules,
  type ProbabilisticCore,
} from './predictors.js';
import { atLeast, type SparkVersion } from './stage-helpers.js';
import { denseFromStruct, matrixFromStruct } from './udt.js';

/**
 * NaiveBayesModel: `pi` (log priors) and `theta` (log conditionals, classes × features);
 * 3.x adds `sigma` (variances, Gaussian only). Raw predictions are log posteriors up to a
 * constant; probabilities are their softmax.
 */

/** 3.0+ refuses negative (and NaN) values for multinomial / complement models. */
function requireNonNegative(x: Vector): void {
  const values = x instanceof Float64Array ? x : x.values;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (v !== 0 && !(v > 0)) throw new RowError(`Naive Bayes requires nonnegative feature values but found ${v}`);
  }
}

function requireZeroOne(x: Vector): void {
  const values = x instanceof Float64Array ? x : x.values;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (v !== 0 && v !== 1) throw new RowError(`Bernoulli naive Bayes requires 0 or 1 feature values but found ${v}`);
  }
}

/** NaiveBayesModel.raw2probabilityInPlace before 3.2: exp(x - max) / sum, no special case for +Infinity. */
function legacySoftmax(raw: Float64Array, out: Float64Array): void {
  let max = raw[0]!;
  for (let k = 1; k < raw.length; k++) max = Math.max(max, raw[k]!);
  let sum = 0;
  for (let k = 0; k < raw.length; k++) {
    out[k] = Math.exp(raw[k]! - max);
    sum += out[k]!;
  }
  for (let k = 0; k < raw.length; k++) out[k] = out[k]! / sum;
}

type RawFn = (x: Vector, out: Float64Array) => void;

function multinomial(theta: unknown, pi: Float64Array, version: SparkVersion): { scorer: LinearScorer; raw: RawFn } {
  // 2.x computed theta·x first and added pi afterwards.
  const scorer = scorerFromMatrix(theta, pi, atLeast(version, 3) ? {} : { order: 'dotThenIntercept' });
  const check = atLeast(version, 3);
  return {
    scorer,
    raw(x, out) {
      if (check) requireNonNegative(x);
      scorer.score(x, out);
    },
  };
}

/** Complement NB (3.0+): theta·x, then each minus the log-sum-exp of all. */
function complement(theta: unknown, numClasses: number): { scorer: LinearScorer; raw: RawFn } {
  const scorer = scorerFromMatrix(theta, new Float64Array(numClasses));
  return {
    scorer,
    raw(x, out) {
      requireNonNegative(x);
      scorer.score(x, out);
      let max = -Infinity;
      for (let k = 0; k < out.length; k++) if (out[k]! > max) max = out[k]!;
      let sumExp = 0;
      for (let k = 0; k < out.length; k++) sumExp += Math.exp(out[k]! - max);
      const logSumExp = Math.log(sumExp) + max;
      for (let k = 0; k < out.length; k++) out[k] = out[k]! - logSumExp;
    },
  };
}

/**
 * Bernoulli NB: (theta - log(1 - e^theta))·x + pi + Σ log(1 - e^theta). 3.x folds pi and the
 * sum together first (with log1p); 2.x adds pi, then the sum, to the product.
 */
function bernoulli(theta: unknown, pi: Float64Array, version: SparkVersion): { scorer: LinearScorer; raw: RawFn } {
  const modern = atLeast(version, 3);
  const negTheta = modern ? (v: number) => Math.log1p(-Math.exp(v)) : (v: number) => Math.log(1.0 - Math.exp(v));
  const numClasses = pi.length;
  const negScorer = scorerFromMatrix(theta, modern ? pi : new Float64Array(numClasses), { map: negTheta });
  const ones = new Float64Array(negScorer.numFeatures).fill(1.0);
  const negSum = new Float64Array(numClasses);
  negScorer.score(ones, negSum);
  const scorer = scorerFromMatrix(theta, modern ? negSum : new Float64Array(numClasses), { map: (v) => v - negTheta(v) });
  return {
    scorer,
    raw(x, out) {
      requireZeroOne(x);
      scorer.score(x, out);
      if (!modern) for (let k = 0; k < numClasses; k++) out[k] = out[k]! + pi[k]! + negSum[k]!;
    },
  };
}

/** Gaussian NB (3.0+): pi - (Σ (x - theta)² / sigma + Σ log sigma) / 2. */
function gaussian(thetaStruct: unknown, sigmaStruct: unknown, pi: Float64Array): { numFeatures: number; raw: RawFn } {
  const theta = matrixFromStruct(thetaStruct);
  const sigma = matrixFromStruct(sigmaStruct);
  const { numRows: k, numCols: d } = theta;
  if (sigma.numRows !== k || sigma.numCols !== d) throw new Error(`sigma is ${sigma.numRows}×${sigma.numCols}, theta ${k}×${d}`);
  const logVarSum = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.log(sigma.values[i * d + j]!);
    logVarSum[i] = s;
  }
  return {
    numFeatures: d,
    raw(x, out) {
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const diff = (x instanceof Float64Array ? x[j]! : vectorAt(x, j)) - theta.values[i * d + j]!;
          s += (diff * diff) / sigma.values[i * d + j]!;
        }
        out[i] = pi[i]! - (s + logVarSum[i]!) / 2;
      }
    },
  };
}

function naiveBayesCore(ctx: StageContext, row: Record<string, unknown>): ProbabilisticCore {
  const version = savedVersion(ctx);
  const pi = denseFromStruct(row.pi);
  const numClasses = pi.length;
  const modelType = ctx.params.string('modelType', 'multinomial');
  let numFeatures: number;
  let raw: RawFn;
  if (modelType === 'gaussian') {
    ({ numFeatures, raw } = gaussian(row.theta, row.sigma, pi));
  } else {
    const built =
      modelType === 'multinomial'
        ? multinomial(row.theta, pi, version)
        : modelType === 'bernoulli'
          ? bernoulli(row.theta, pi, version)
          : modelType === 'complement'
            ? complement(row.theta, numClasses)
            : undefined;
    if (!built) throw new Error(`unknown modelType "${modelType}"`);
    if (built.scorer.numOutputs !== numClasses) throw new Error(`theta has ${built.scorer.numOutputs} rows for ${numClasses} classes`);
    numFeatures = built.scorer.numFeatures;
    raw = built.raw;
  }
  const raw2probability = atLeast(version, 3, 2) ? softmax : legacySoftmax;
  const rules = thresholdRules(readThresholds(ctx, numClasses), raw2probability);
  return {
    numClasses,
    checkFeatures: (x) => requireSize(x, numFeatures),
    predictRaw: raw,
    raw2probability,
    ...rules,
    predict(x) {
      const r = new Float64Array(numClasses);
      raw(x, r);
      return rules.raw2prediction(r);
    },
  };
}

const naiveBayes: StageFactory = async (ctx) => {
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  return classifierStage(ctx, naiveBayesCore(ctx, rows[0]!));
};

export const bayesStages: Record<string, StageFactory> = {
  'org.apache.spark.ml.classification.NaiveBayesModel': naiveBayes,
};
