import type { Column, Vector } from '../pipeline/frame.js';
import { toDense } from '../pipeline/frame.js';
import type { Frame } from '../pipeline/frame.js';
import type { ModelVersion } from '../packages/package.js';

export interface PredictionBody {
  /** A label or number; for a feature-only package, its last column's value (a vector as an array). */
  prediction: unknown;
  probability?: Record<string, number>;
  [derived: string]: unknown;
}

/**
 * Reads the package's outputs from the final frame: `prediction` from the last model
 * stage's predictionCol through output_labels (a non-double prediction, such as an
 * itemset, as it is), `probability` keyed by label, and under their own names the model's
 * body columns and the columns later stages derived (IndexToString's string).
 */
export function readPredictions(frame: Frame, model: ModelVersion): PredictionBody[] {
  const outputs = model.pipeline.outputs;
  if (!outputs) return readFeatures(frame, model.pipeline.featureCol!);
  const predictionCol = frame.get(outputs.predictionCol);
  // Most models predict a double; FPGrowthModel predicts an array of items, written as it is.
  const predictions = predictionCol.type === 'double' ? predictionCol.values : undefined;
  const probCol = outputs.probabilityCol && frame.has(outputs.probabilityCol) ? frame.getTyped(outputs.probabilityCol, 'vector') : undefined;
  const classLabels = probCol ? labelsFor(probCol.size > 0 ? probCol.size : (outputs.numClasses ?? 0), model.labels) : [];
  const derived = [...(outputs.bodyCols ?? []), ...model.pipeline.derivedCols].filter((c) => frame.has(c)).map((c) => [c, frame.get(c)] as const);
  const out: PredictionBody[] = new Array(frame.length);
  for (let i = 0; i < frame.length; i++) {
    const body: PredictionBody = { prediction: predictions ? mapLabel(predictions[i]!, model.labels) : cellValue(predictionCol, i) };
    const p = probCol?.values[i];
    if (p) body.probability = probabilityByLabel(p, classLabels, model.labels);
    for (const [name, col] of derived) body[name] = cellValue(col, i);
    out[i] = body;
  }
  return out;
}

/** A package of feature stages only: its last output column is the prediction. */
function readFeatures(frame: Frame, column: string): PredictionBody[] {
  const col = frame.get(column);
  return Array.from({ length: frame.length }, (_, i) => ({ prediction: cellValue(col, i) }));
}

function mapLabel(raw: number, labels: ReadonlyMap<string, string>): string | number | null {
  if (Number.isNaN(raw)) return null;
  if (labels.size === 0) return raw;
  return labels.get(String(raw)) ?? String(raw);
}

function labelsFor(n: number, labels: ReadonlyMap<string, string>): string[] {
  return Array.from({ length: n }, (_, k) => labels.get(String(k)) ?? String(k));
}

function probabilityByLabel(v: Vector, classLabels: string[], labels: ReadonlyMap<string, string>): Record<string, number> {
  const dense = toDense(v);
  const names = classLabels.length === dense.length ? classLabels : labelsFor(dense.length, labels);
  const out: Record<string, number> = {};
  for (let k = 0; k < dense.length; k++) out[names[k]!] = dense[k]!;
  return out;
}

function cellValue(col: Column, i: number): unknown {
  switch (col.type) {
    case 'double':
      return col.nulls?.[i] ? null : col.values[i];
    case 'vector': {
      const v = col.values[i];
      return v ? Array.from(toDense(v)) : null;
    }
    case 'vectors':
      return col.values[i]?.map((v) => Array.from(toDense(v))) ?? null;
    default:
      return col.values[i];
  }
}
