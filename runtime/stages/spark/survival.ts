/**
 * AFTSurvivalRegressionModel: a Weibull accelerated-failure-time model. The prediction is
 * the Weibull scale λ = exp(β·x + b); with quantilesCol set, the lifetime quantiles for
 * quantileProbabilities come out too, as a vector under that column's name in the
 * prediction message. Data: `coefficients` vector, `intercept`, `scale` (σ).
 *
 * The quantile of probability q is λ·(−log(1 − q))^σ; Spark's releases evaluate it in three
 * ways that can differ in the last bits, each kept for the version that saved the model:
 * 2.x exp(log(−log(1 − q)) / k) with k = 1/σ; 3.x the same with log1p(−q); 4.x precomputes
 * exp(log(−log1p(−q)) · σ) and scales it by λ.
 */
import { vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { dotVectors } from './linalg.js';
import { regressorStage, requireSize, savedVersion } from './predictors.js';
import { atLeast, type SparkVersion } from './stage-helpers.js';
import { vectorFromStruct } from './udt.js';

const REG = 'org.apache.spark.ml.regression.';

const DEFAULT_QUANTILE_PROBABILITIES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];

/** Turns λ into the quantiles vector the saving Spark version would compute. */
function quantileRule(version: SparkVersion, probabilities: readonly number[], scale: number): (lambda: number) => Float64Array {
  if (atLeast(version, 4)) {
    const unit = probabilities.map((q) => Math.exp(Math.log(-Math.log1p(-q)) * scale));
    return (lambda) => Float64Array.from(unit, (u) => lambda * u);
  }
  const k = 1 / scale;
  const logMinusLog = atLeast(version, 3) ? (q: number) => Math.log(-Math.log1p(-q)) : (q: number) => Math.log(-Math.log(1 - q));
  const exponents = probabilities.map((q) => logMinusLog(q) / k);
  return (lambda) => Float64Array.from(exponents, (e) => lambda * Math.exp(e));
}

const aftSurvivalRegression: StageFactory = async (ctx) => {
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  const row = rows[0]!;
  const coefficients = vectorFromStruct(row.coefficients);
  const intercept = Number(row.intercept);
  const scale = Number(row.scale);
  if (!(scale > 0)) throw new Error(`scale is ${String(row.scale)}, expected a positive number`);
  const numFeatures = vectorSize(coefficients);
  const quantilesCol = ctx.params.optionalString('quantilesCol') ?? '';
  const probabilities = ctx.params.numbers('quantileProbabilities', DEFAULT_QUANTILE_PROBABILITIES);
  if (!probabilities.every((q) => q > 0 && q < 1)) throw new Error(`quantileProbabilities [${probabilities.join(', ')}] must lie in (0, 1)`);
  const quantiles = quantileRule(savedVersion(ctx), probabilities, scale);
  const lambda = (x: Parameters<typeof dotVectors>[0]): number => Math.exp(dotVectors(coefficients, x) + intercept);
  const stage = regressorStage(
    ctx,
    { checkFeatures: (x) => requireSize(x, numFeatures), predict: lambda },
    quantilesCol ? [{ col: quantilesCol, type: 'vector', size: probabilities.length, compute: (x) => quantiles(lambda(x)) }] : [],
  );
  if (!quantilesCol || !stage.modelOutputs) return stage;
  return { ...stage, modelOutputs: { ...stage.modelOutputs, bodyCols: [quantilesCol] } };
};

export const survivalStages: Record<string, StageFactory> = {
  [REG + 'AFTSurvivalRegressionModel']: aftSurvivalRegression,
};
