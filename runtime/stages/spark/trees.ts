import type { StageFactory } from '../../pipeline/stage.js';
import {
  classifierStage,
  normalizeCounts,
  readThresholds,
  regressorStage,
  savedVersion,
  thresholdRules,
  type ExtraOutput,
} from './predictors.js';
import { atLeast } from './stage-helpers.js';
import { ensembleStages } from './tree-ensembles.js';
import { FlatForest, leafCol, leafOutput, metadataInt } from './tree-model.js';

const CLS = 'org.apache.spark.ml.classification.';
const REG = 'org.apache.spark.ml.regression.';

/**
 * DecisionTreeClassificationModel: rawPrediction is the leaf's class counts, probability
 * those counts normalized, prediction their argmax (or the thresholds rule).
 */
const decisionTreeClassifier: StageFactory = async (ctx) => {
  const forest = new FlatForest([await ctx.readData()]);
  const numClasses = metadataInt(ctx, 'numClasses');
  forest.requireLeafStats(numClasses);
  const strict = atLeast(savedVersion(ctx), 3);
  const raw2probability = (raw: Float64Array, out: Float64Array) => normalizeCounts(raw, out, strict);
  const rules = thresholdRules(readThresholds(ctx, numClasses), raw2probability);
  return classifierStage(
    ctx,
    {
      numClasses,
      checkFeatures: (x) => forest.checkFeatures(x),
      predictRaw: (x, out) => out.set(forest.statsOf(forest.leafOf(0, x))),
      raw2probability,
      ...rules,
      predict: (x) => forest.prediction[forest.leafOf(0, x)]!,
    },
    leafOutput(leafCol(ctx), forest, true),
  );
};

/** Variance of a leaf from its (count, sum, sum of squares) statistics, as Spark's Variance.calculate. */
function leafVariance(stats: Float64Array): number {
  const [count, sum, sumSquares] = [stats[0]!, stats[1]!, stats[2]!];
  if (count === 0) return 0;
  return (sumSquares - (sum * sum) / count) / count;
}

/** DecisionTreeRegressionModel: the leaf's prediction, and its variance when varianceCol is set. */
const decisionTreeRegressor: StageFactory = async (ctx) => {
  const forest = new FlatForest([await ctx.readData()]);
  const varianceCol = ctx.params.optionalString('varianceCol') ?? '';
  const extras: ExtraOutput[] = leafOutput(leafCol(ctx), forest, true);
  if (varianceCol) extras.push({ col: varianceCol, type: 'double', compute: (x) => leafVariance(forest.statsOf(forest.leafOf(0, x))) });
  return regressorStage(
    ctx,
    {
      checkFeatures: (x) => forest.checkFeatures(x),
      predict: (x) => forest.prediction[forest.leafOf(0, x)]!,
    },
    extras,
  );
};

export const treeStages: Record<string, StageFactory> = {
  [CLS + 'DecisionTreeClassificationModel']: decisionTreeClassifier,
  [REG + 'DecisionTreeRegressionModel']: decisionTreeRegressor,
  ...ensembleStages,
};
