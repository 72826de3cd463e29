/**
 * OneVsRestModel: one binary classifier per class, saved in `model_0/` … `model_<k-1>/`
 * (`classifier/` is the unfitted estimator, never read). As in Spark's transform, every
 * classifier scores the row, class i's confidence is element 1 of classifier i's
 * rawPrediction, rawPrediction is the vector of those confidences and the prediction the
 * index of the largest (the first, on a tie). OneVsRest writes no probability.
 */
import { join } from 'node:path';
import { argmax, type Vector, vectorAt } from '../../pipeline/frame.js';
import type { Stage, StageFactory } from '../../pipeline/stage.js';

const oneVsRestModel: StageFactory = async (ctx) => {
  const numClasses = ctx.metadata.numClasses;
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 1) throw new Error('metadata has no numClasses');
  const features = ctx.params.string('featuresCol', 'features');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const rawCol = ctx.params.string('rawPredictionCol', 'rawPrediction');
  const models: Stage[] = [];
  try {
    for (let i = 0; i < numClasses; i++) {
      const loaded = await ctx.loadNested(join(ctx.dir, `model_${i}`));
      models.push(...loaded);
      const model = loaded.length === 1 ? loaded[0] : undefined;
      if (!model?.modelOutputs?.rawPredictionCol) throw new Error(`model_${i} is not a classifier that writes rawPrediction`);
      if (!model.inputCols.includes(features)) throw new Error(`model_${i} reads ${model.inputCols.join(', ')}, not the OneVsRest featuresCol "${features}"`);
    }
  } catch (e) {
    for (const m of models) await m.dispose?.();
    throw e;
  }
  const own = new Set([rawCol, predictionCol]);
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [features],
    outputCols: [rawCol, predictionCol].filter((c) => c !== ''),
    modelOutputs: { predictionCol, ...(rawCol ? { rawPredictionCol: rawCol } : {}), numClasses },
    async transform(frame) {
      const n = frame.length;
      const confidences = Array.from({ length: n }, () => new Float64Array(numClasses));
      for (const [k, model] of models.entries()) {
        await model.transform(frame);
        const raws = frame.getTyped(model.modelOutputs!.rawPredictionCol!, 'vector').values;
        for (let i = 0; i < n; i++) {
          const raw: Vector | null = raws[i] ?? null;
          if (raw) confidences[i]![k] = vectorAt(raw, 1);
        }
        for (const c of model.outputCols) if (!own.has(c)) frame.columns.delete(c);
      }
      if (rawCol) frame.set(rawCol, { type: 'vector', size: numClasses, values: confidences });
      frame.set(predictionCol, { type: 'double', values: Float64Array.from(confidences, (c) => argmax(c)) });
    },
    async dispose() {
      for (const m of models) await m.dispose?.();
    },
  };
};

export const oneVsRestStages: Record<string, StageFactory> = {
  'org.apache.spark.ml.classification.OneVsRestModel': oneVsRestModel,
};
