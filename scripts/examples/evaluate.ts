import { loadPackage } from '../../runtime/packages/package.js';
import { buildFrame } from '../../runtime/pipeline/input-schema.js';
import { toDense } from '../../runtime/pipeline/frame.js';
import { builtinRegistry } from '../../runtime/stages/index.js';

export interface Scores {
  readonly predictions: Float64Array;
  readonly probabilities: Float64Array[];
}

/**
 * Scores records with a package exactly as the runtime serves it (loadPackage, then the
 * pipeline on micro-batches), so an example's reported accuracy is the served model's.
 */
export async function scorePackage(dir: string, records: readonly Record<string, unknown>[], batchSize = 250): Promise<Scores> {
  const model = await loadPackage(dir, builtinRegistry());
  try {
    const outputs = model.pipeline.outputs!;
    const predictions = new Float64Array(records.length);
    const probabilities: Float64Array[] = [];
    for (let start = 0; start < records.length; start += batchSize) {
      const batch = records.slice(start, start + batchSize);
      const frame = await model.pipeline.run(buildFrame(batch, model.fields));
      if (frame.length !== batch.length) throw new Error(`${dir}: ${batch.length - frame.length} records were rejected: ${frame.rejections[0]?.message}`);
      predictions.set(frame.getTyped(outputs.predictionCol, 'double').values, start);
      if (outputs.probabilityCol) for (const v of frame.getTyped(outputs.probabilityCol, 'vector').values) probabilities.push(toDense(v!));
    }
    return { predictions, probabilities };
  } finally {
    await model.pipeline.dispose();
  }
}

export function accuracy(predictions: Float64Array, labels: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) right++;
  return right / predictions.length;
}
