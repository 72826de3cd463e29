/**
 * VectorSlicer: a sub-vector of the selected features, `indices` first, then the features
 * named in `names`. Names are resolved, as Spark resolves them, from the input column's ML
 * attributes — here the attributes the pipeline's own stages give it (a VectorAssembler's
 * input columns, a OneHotEncoder's categories). A name they do not resolve refuses the
 * package, naming it: a saved folder does not record the attributes of its input columns.
 */
import { groupAttributes } from '../../pipeline/attributes.js';
import type { Vector } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { PackageError } from '../../packages/errors.js';
import { selectedAttributes } from './attribute-rules.js';
import { defaultOutputCol } from './common.js';
import { vectorMapStage } from './stage-helpers.js';

const vectorSlicer: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const byIndex = ctx.params.numbers('indices', []);
  const names = ctx.params.strings('names', []);
  if (byIndex.some((i) => !Number.isInteger(i) || i < 0)) throw new Error(`indices must be non-negative integers, got ${JSON.stringify(byIndex)}`);
  if (byIndex.length + names.length === 0) throw new Error('VectorSlicer selects no feature: indices and names are both empty');
  if (new Set(byIndex).size !== byIndex.length || new Set(names).size !== names.length) throw new Error('VectorSlicer indices and names must not repeat');
  let selected = Int32Array.from(byIndex);
  let maxIndex = Math.max(-1, ...byIndex);
  const stage = vectorMapStage(ctx, input, output, byIndex.length + names.length, (v) => slice(v, selected, maxIndex));
  return {
    ...stage,
    attributes(before) {
      if (names.length) {
        const known = groupAttributes(before.get(input)) ?? [];
        const at = new Map(known.flatMap((a, i) => (a.name === undefined ? [] : [[a.name, i] as const])));
        const missing = names.filter((n) => !at.has(n));
        if (missing.length) {
          throw new PackageError(
            `VectorSlicer ${ctx.metadata.uid} selects features by name, but ${known.length ? 'the attributes of' : 'no earlier stage names the features of'} column "${input}"` +
              `${known.length ? ' do not name' : ', so it cannot resolve'} ${missing.length} of them: ${missing.join(', ')}`,
            ctx.dir,
          );
        }
        const resolved = names.map((n) => at.get(n)!);
        if (resolved.some((i) => byIndex.includes(i))) throw new PackageError(`VectorSlicer ${ctx.metadata.uid}: a feature is selected both by index and by name`, ctx.dir);
        selected = Int32Array.from([...byIndex, ...resolved]);
        maxIndex = Math.max(-1, ...selected);
      }
      return selectedAttributes(before, input, output, [...selected]);
    },
  };
};

/** Spark's slice: dense stays dense; sparse keeps its stored entries at their new positions. */
function slice(v: Vector, selected: Int32Array, maxIndex: number): Vector | string {
  if (v instanceof Float64Array) {
    if (maxIndex >= v.length) return `vector of size ${v.length} has no feature ${maxIndex}`;
    return Float64Array.from(selected, (i) => v[i]!);
  }
  const indices: number[] = [];
  const values: number[] = [];
  selected.forEach((original, k) => {
    const at = binarySearch(v.indices, original);
    if (at >= 0) {
      indices.push(k);
      values.push(v.values[at]!);
    }
  });
  return { size: selected.length, indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

function binarySearch(sorted: Int32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === x) return mid;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export const slicingStages: Record<string, StageFactory> = {
  'org.apache.spark.ml.feature.VectorSlicer': vectorSlicer,
};
