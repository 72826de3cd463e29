import type { StageFactory } from '../../pipeline/stage.js';
import { selectorStage } from './projections.js';

/**
 * UnivariateFeatureSelectorModel and VarianceThresholdSelectorModel (Spark 3.1+): what
 * the estimator chose (by a statistical test, or by variance) is all saved in the data
 * row's `selectedFeatures`, and the models transform exactly as ChiSqSelectorModel does:
 * the selected features in increasing index order, sparse staying sparse.
 */

const ML = 'org.apache.spark.ml.feature.';

const selectorModel: StageFactory = async (ctx) => {
  const rows = await ctx.readData();
  if (rows.length === 0) throw new Error('data/ holds no rows');
  return selectorStage(ctx, rows[0]!);
};

export const selectorStages: Record<string, StageFactory> = {
  [ML + 'UnivariateFeatureSelectorModel']: selectorModel,
  [ML + 'VarianceThresholdSelectorModel']: selectorModel,
};
