import type { Vector } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import {
  classifierStage,
  normalizeCounts,
  readThresholds,
  regressorStage,
  savedVersion,
  thresholdRules,
} from './predictors.js';
import { atLeast } from './stage-helpers.js';
import { FlatForest, leafCol, leafOutput, metadataInt } from './tree-model.js';

const CLS = 'org.apache.spark.ml.classification.';
const REG = 'org.apache.spark.ml.regression.';

interface Ensemble {
  readonly forest: FlatForest;
  readonly weights: Float64Array;
}

/**
 * Tree ensembles store `data/` rows (treeID, nodeData) and `treesMetadata/` rows (treeID,
 * metadata, weights); Spark orders both by treeID.
 */
async function readEnsemble(ctx: StageContext): Promise<Ensemble> {
  const byTree = new Map<number, unknown[]>();
  for (const row of await ctx.readData()) {
    const t = Number(row.treeID);
    let nodes = byTree.get(t);
    if (!nodes) byTree.set(t, (nodes = []));
    nodes.push(row.nodeData);
  }
  const meta = (await ctx.readData('treesMetadata')).map((r) => ({ treeID: Number(r.treeID), weight: Number(r.weights) }));
  meta.sort((a, b) => a.treeID - b.treeID);
  const ids = [...byTree.keys()].sort((a, b) => a - b);
  if (ids.length !== meta.length || ids.some((id, i) => id !== meta[i]!.treeID)) {
    throw new Error(`data/ has trees [${ids.join(', ')}] but treesMetadata/ has [${meta.map((m) => m.treeID).join(', ')}]`);
  }
  const numTrees = ctx.metadata.numTrees;
  if (typeof numTrees === 'number' && numTrees !== ids.length) throw new Error(`metadata says ${numTrees} trees, data/ has ${ids.length}`);
  return {
    forest: new FlatForest(ids.map((id) => byTree.get(id)!)),
    weights: Float64Array.from(meta, (m) => m.weight),
  };
}

/** Σ prediction_t · weight_t in tree order (GBT's ddot). */
function weightedSum({ forest, weights }: Ensemble, x: Vector): number {
  let sum = 0;
  for (let t = 0; t < forest.numTrees; t++) sum += forest.prediction[forest.leafOf(t, x)]! * weights[t]!;
  return sum;
}

/**
 * RandomForestClassificationModel: rawPrediction adds every tree's leaf class counts
 * normalized to sum 1 (a leaf with no counts adds nothing); probability normalizes that.
 */
const randomForestClassifier: StageFactory = async (ctx) => {
  const { forest } = await readEnsemble(ctx);
  const numClasses = metadataInt(ctx, 'numClasses');
  forest.requireLeafStats(numClasses);
  const strict = atLeast(savedVersion(ctx), 3);
  const raw2probability = (raw: Float64Array, out: Float64Array) => normalizeCounts(raw, out, strict);
  const rules = thresholdRules(readThresholds(ctx, numClasses), raw2probability);
  const predictRaw = (x: Vector, votes: Float64Array): void => {
    votes.fill(0);
    for (let t = 0; t < forest.numTrees; t++) {
      const counts = forest.statsOf(forest.leafOf(t, x));
      let total = 0;
      for (let i = 0; i < numClasses; i++) total += counts[i]!;
      if (total === 0) continue;
      for (let i = 0; i < numClasses; i++) votes[i]! += counts[i]! / total;
    }
  };
  return classifierStage(
    ctx,
    {
      numClasses,
      checkFeatures: (x) => forest.checkFeatures(x),
      predictRaw,
      raw2probability,
      ...rules,
      predict(x) {
        const votes = new Float64Array(numClasses);
        predictRaw(x, votes);
        return rules.raw2prediction(votes);
      },
    },
    leafOutput(leafCol(ctx), forest, false),
  );
};

/** RandomForestRegressionModel: the mean of the trees' predictions. */
const randomForestRegressor: StageFactory = async (ctx) => {
  const { forest } = await readEnsemble(ctx);
  return regressorStage(
    ctx,
    {
      checkFeatures: (x) => forest.checkFeatures(x),
      predict(x) {
        let sum = 0;
        for (let t = 0; t < forest.numTrees; t++) sum += forest.prediction[forest.leafOf(t, x)]!;
        return sum / forest.numTrees;
      },
    },
    leafOutput(leafCol(ctx), forest, false),
  );
};

/**
 * GBTClassificationModel (binary): margin m = Σ weight · tree prediction, rawPrediction
 * [-m, m], probability from the logistic loss: p0 = 1 / (1 + e^(2m)), p1 = 1 - p0.
 */
const gbtClassifier: StageFactory = async (ctx) => {
  const ensemble = await readEnsemble(ctx);
  const lossType = ctx.params.string('lossType', 'logistic').toLowerCase();
  if (lossType !== 'logistic') throw new Error(`unsupported GBT classification loss "${lossType}"`);
  const thresholds = readThresholds(ctx, 2);
  const raw2probability = (raw: Float64Array, out: Float64Array): void => {
    out[0] = 1.0 / (1.0 + Math.exp(-2.0 * raw[0]!));
    out[1] = 1.0 - out[0];
  };
  const rules = thresholdRules(thresholds, raw2probability);
  const predictRaw = (x: Vector, out: Float64Array): void => {
    const m = weightedSum(ensemble, x);
    out[0] = -m;
    out[1] = m;
  };
  return classifierStage(
    ctx,
    {
      numClasses: 2,
      checkFeatures: (x) => ensemble.forest.checkFeatures(x),
      predictRaw,
      raw2probability,
      ...rules,
      predict(x) {
        if (!thresholds) return weightedSum(ensemble, x) > 0.0 ? 1 : 0;
        const raw = new Float64Array(2);
        predictRaw(x, raw);
        return rules.raw2prediction(raw);
      },
    },
    leafOutput(leafCol(ctx), ensemble.forest, false),
  );
};

/** GBTRegressionModel: Σ weight · tree prediction. */
const gbtRegressor: StageFactory = async (ctx) => {
  const ensemble = await readEnsemble(ctx);
  return regressorStage(
    ctx,
    {
      checkFeatures: (x) => ensemble.forest.checkFeatures(x),
      predict: (x) => weightedSum(ensemble, x),
    },
    leafOutput(leafCol(ctx), ensemble.forest, false),
  );
};

export const ensembleStages: Record<string, StageFactory> = {
  [CLS + 'RandomForestClassificationModel']: randomForestClassifier,
  [REG + 'RandomForestRegressionModel']: randomForestRegressor,
  [CLS + 'GBTClassificationModel']: gbtClassifier,
  [REG + 'GBTRegressionModel']: gbtRegressor,
};
