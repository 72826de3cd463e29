/**
 * Spark's tuning wrappers, CrossValidatorModel and TrainValidationSplitModel. Scoring with
 * one is scoring with its `bestModel/` (a saved PipelineModel or model), so the wrapper is
 * replaced by the stages of that folder. `estimator/`, `evaluator/` and `subModels/` only
 * matter for refitting and are never read.
 */
import { join } from 'node:path';
import type { StageFactory } from '../../pipeline/stage.js';
import { expandedInto } from './stage-helpers.js';

const TUNING = 'org.apache.spark.ml.tuning.';

const bestModel: StageFactory = async (ctx) => expandedInto(ctx, await ctx.loadNested(join(ctx.dir, 'bestModel')));

export const tuningStages: Record<string, StageFactory> = {
  [TUNING + 'CrossValidatorModel']: bestModel,
  [TUNING + 'TrainValidationSplitModel']: bestModel,
};
