import { toDense, vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol } from './common.js';
import { vectorMapStage } from './stage-helpers.js';
import { denseFromStruct } from './udt.js';

/**
 * RobustScalerModel (Spark 3.0+): data row `range` (the quantile range, upper minus lower
 * quantile) and `median`. It runs StandardScalerModel's transform with `median` as the
 * shift and `1/range` as the scale (0 where the range is 0): with centering the output is
 * dense, `(x - median) · scale`; scaling alone keeps a sparse vector sparse.
 */

const ML = 'org.apache.spark.ml.feature.';

const robustScaler: StageFactory = async (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const withCentering = ctx.params.boolean('withCentering', false);
  const withScaling = ctx.params.boolean('withScaling', true);
  const rows = await ctx.readData();
  if (rows.length === 0) throw new Error('data/ holds no rows');
  const median = denseFromStruct(rows[0]!.median);
  const scale = denseFromStruct(rows[0]!.range).map((r) => (r === 0 ? 0 : 1 / r));
  const n = median.length;
  return vectorMapStage(ctx, input, output, n, (v) => {
    if (vectorSize(v) !== n) return `expected a vector of size ${n}, got ${vectorSize(v)}`;
    if (withCentering) {
      const values = Float64Array.from(toDense(v));
      for (let i = 0; i < n; i++) values[i] = withScaling ? (values[i]! - median[i]!) * scale[i]! : values[i]! - median[i]!;
      return values;
    }
    if (!withScaling) return v;
    if (v instanceof Float64Array) return v.map((x, i) => x * scale[i]!);
    return { size: v.size, indices: v.indices, values: v.values.map((x, k) => x * scale[v.indices[k]!]!) };
  });
};

export const robustScalerStages: Record<string, StageFactory> = {
  [ML + 'RobustScalerModel']: robustScaler,
};
