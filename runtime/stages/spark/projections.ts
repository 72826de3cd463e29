import { vectorSize, type Vector } from '../../pipeline/frame.js';
import { selectedAttributes } from './attribute-rules.js';
import type { Stage, StageContext, StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol } from './common.js';
import { vectorMapStage } from './stage-helpers.js';
import { matrixFromStruct } from './udt.js';

const ML = 'org.apache.spark.ml.feature.';

async function modelRow(ctx: StageContext): Promise<Record<string, unknown>> {
  const rows = await ctx.readData();
  if (rows.length === 0) throw new Error('data/ holds no rows');
  return rows[0]!;
}

/**
 * ChiSqSelectorModel: keeps the selected features in increasing index order; a sparse
 * vector stays sparse (explicit zeros kept), a dense one stays dense.
 */
const chiSqSelector: StageFactory = async (ctx) => selectorStage(ctx, await modelRow(ctx));

/**
 * Every Spark selector model (ChiSq, Univariate, VarianceThreshold) saves the same
 * `selectedFeatures` list in its data row and transforms the same way.
 */
export function selectorStage(ctx: StageContext, row: Record<string, unknown>): Stage {
  const input = ctx.params.string('featuresCol', 'features');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  if (!Array.isArray(row.selectedFeatures)) throw new Error('data/ has no selectedFeatures list');
  const selected = Int32Array.from(row.selectedFeatures as unknown[], Number).sort();
  const maxIndex = selected.length ? selected[selected.length - 1]! : -1;
  const stage = vectorMapStage(ctx, input, output, selected.length, (v) => {
    if (maxIndex >= vectorSize(v)) return `vector of size ${vectorSize(v)} has no feature ${maxIndex}`;
    if (v instanceof Float64Array) return Float64Array.from(selected, (i) => v[i]!);
    return selectSparse(v.indices, v.values, selected);
  });
  return { ...stage, attributes: (before) => selectedAttributes(before, input, output, [...selected]) };
}

function selectSparse(indices: Int32Array, values: Float64Array, selected: Int32Array): Vector {
  const newIndices: number[] = [];
  const newValues: number[] = [];
  let i = 0;
  let j = 0;
  while (i < indices.length && j < selected.length) {
    const index = indices[i]!;
    const wanted = selected[j]!;
    if (index === wanted) {
      newIndices.push(j++);
      newValues.push(values[i++]!);
    } else if (index > wanted) j++;
    else i++;
  }
  return { size: selected.length, indices: Int32Array.from(newIndices), values: Float64Array.from(newValues) };
}

/**
 * PCAModel: projects onto the principal components, `pcᵀ · x`, each output summed over the
 * input features in order (the stored entries of a sparse vector). Output is dense.
 */
const pca: StageFactory = async (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const row = await modelRow(ctx);
  const pc = matrixFromStruct(row.pc);
  const { numRows: numFeatures, numCols: k, values: rowMajor } = pc;
  return vectorMapStage(ctx, input, output, k, (v) => {
    if (vectorSize(v) !== numFeatures) return `expected a vector of size ${numFeatures}, got ${vectorSize(v)}`;
    const out = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let sum = 0;
      if (v instanceof Float64Array) {
        for (let l = 0; l < numFeatures; l++) sum += rowMajor[l * k + c]! * v[l]!;
      } else {
        for (let e = 0; e < v.indices.length; e++) sum += v.values[e]! * rowMajor[v.indices[e]! * k + c]!;
      }
      out[c] = sum;
    }
    return out;
  });
};

export const projectionStages: Record<string, StageFactory> = {
  [ML + 'ChiSqSelectorModel']: chiSqSelector,
  [ML + 'PCAModel']: pca,
};
