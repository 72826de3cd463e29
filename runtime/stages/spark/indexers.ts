import { ErrorCodes } from '../../errors.js';
import { indexedAttributes, oneHotAttributes, vectorIndexedAttributes } from './attribute-rules.js';
import { PipelineError, type Column, type Frame, type SparseVector, type Vector } from '../../pipeline/frame.js';
import type { Stage, StageFactory } from '../../pipeline/stage.js';
import { columnPairs, defaultOutputCol, handleInvalid, javaDoubleString } from './common.js';
import { rejectNull } from './text-vectors.js';

const ML = 'org.apache.spark.ml.feature.';

/**
 * Looks a cell up among the labels the way `col.cast(StringType)` would see it: strings
 * as they are, booleans as "true"/"false", numbers by value, so a double column matches
 * labels written from an integer ("3") or double ("3.0") column alike.
 */
class LabelLookup {
  private readonly byString = new Map<string, number>();
  private byNumber: Map<number, number> | undefined;

  constructor(readonly labels: readonly string[]) {
    labels.forEach((label, i) => this.byString.set(label, i));
  }

  /** The label index of row i, undefined when unseen, null when the cell is null. */
  find(col: Column, i: number): number | undefined | null {
    switch (col.type) {
      case 'string': {
        const v = col.values[i];
        return v == null ? null : this.byString.get(v);
      }
      case 'boolean': {
        const v = col.values[i];
        return v == null ? null : this.byString.get(String(v));
      }
      case 'double':
        if (col.nulls?.[i]) return null;
        return this.numbers().get(col.values[i]!);
      default:
        throw new PipelineError(`StringIndexer cannot index a ${col.type} column`);
    }
  }

  private numbers(): Map<number, number> {
    if (this.byNumber) return this.byNumber;
    const map = new Map<number, number>();
    this.labels.forEach((label, i) => {
      if (!/^-?(\d+(\.\d+)?(E-?\d+)?|NaN|Infinity)$/.test(label)) return;
      const n = Number(label);
      map.set(n, i);
      if (!map.has(Math.fround(n))) map.set(Math.fround(n), i);
    });
    return (this.byNumber = map);
  }
}

function cellText(col: Column, i: number): string {
  if (col.type === 'double') return javaDoubleString(col.values[i]!);
  return String(col.values[i]);
}

/**
 * StringIndexerModel: label → its index in the fitted label order. A column absent from
 * the input is skipped (Spark's answer to label indexers left in serving pipelines): with
 * several input columns, only the present ones are indexed and only their outputs written.
 * handleInvalid decides unseen labels and nulls: error fails the row, skip drops it,
 * keep maps it to the number of labels. (With skip, Spark 3+ fails outright when an input
 * column is absent; here the absent column is skipped like under error and keep.)
 */
const stringIndexerModel: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  const labelsArray = (row?.labelsArray ?? (row?.labels !== undefined ? [row.labels] : undefined)) as string[][] | undefined;
  if (!labelsArray) throw new Error('StringIndexerModel data has neither labelsArray nor labels');
  const { inputs, outputs } = columnPairs(ctx.params, () => defaultOutputCol(ctx));
  if (labelsArray.length !== inputs.length) throw new Error(`${labelsArray.length} label lists for ${inputs.length} input columns`);
  const lookups = labelsArray.map((labels) => new LabelLookup(labels));
  const invalid = handleInvalid(ctx.params, 'error');
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    skips: (available) => inputs.every((c) => !available.has(c)),
    attributes: () => indexedAttributes(outputs, labelsArray, invalid === 'keep'),
    columnsFor(available) {
      const present = inputs.flatMap((c, k) => (available.has(c) ? [k] : []));
      return { inputCols: present.map((k) => inputs[k]!), outputCols: present.map((k) => outputs[k]!) };
    },
    transform(frame) {
      const present = inputs.map((c, k) => ({ input: c, output: outputs[k]!, lookup: lookups[k]! })).filter((c) => frame.has(c.input));
      if (invalid === 'skip') skipInvalidRows(frame, present, stage.uid);
      for (const { input, output, lookup } of present) {
        const col = frame.get(input);
        const out = new Float64Array(frame.length);
        for (let i = 0; i < out.length; i++) {
          const index = lookup.find(col, i);
          if (index != null) out[i] = index;
          else if (invalid === 'keep') out[i] = lookup.labels.length;
          else {
            out[i] = NaN;
            if (invalid === 'error') {
              const message =
                index === null
                  ? 'StringIndexer encountered NULL value. To handle or skip NULLS, try setting StringIndexer.handleInvalid.'
                  : `Unseen label: ${cellText(col, i)}. To handle unseen labels, set Param handleInvalid to keep.`;
              frame.reject(i, ErrorCodes.PIPELINE_ERROR, `${message} (column "${input}")`, stage.uid);
            }
          }
        }
        frame.set(output, { type: 'double', values: out });
      }
    },
  };
  return stage;
};

/** handleInvalid=skip: Spark drops rows with a null or unseen value in any indexed column. */
function skipInvalidRows(frame: Frame, columns: { input: string; lookup: LabelLookup }[], uid: string): void {
  for (const { input, lookup } of columns) {
    const col = frame.get(input);
    for (let i = 0; i < frame.length; i++) {
      const index = lookup.find(col, i);
      if (index != null) continue;
      const what = index === null ? 'a null' : `the unseen label "${cellText(col, i)}"`;
      frame.reject(i, ErrorCodes.ROW_SKIPPED, `StringIndexer (handleInvalid=skip) dropped the row: ${what} in column "${input}"`, uid);
    }
  }
}

/**
 * IndexToString: index → label from the `labels` param. The index is truncated like Java's
 * `Double.toInt` (so NaN reads as 0); an index outside the labels fails the row.
 */
const indexToString: StageFactory = (ctx) => {
  const labels = ctx.params.strings('labels', []);
  if (labels.length === 0) {
    throw new Error("IndexToString has no labels param; Spark would read them from the input column's ML attributes, which a saved pipeline does not keep");
  }
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const col = frame.getTyped(input, 'double');
      const out = new Array<string | null>(frame.length);
      for (let i = 0; i < out.length; i++) {
        out[i] = null;
        if (col.nulls?.[i]) continue;
        const index = col.values[i]!;
        const idx = Number.isNaN(index) ? 0 : Math.trunc(index);
        if (idx >= 0 && idx < labels.length) out[i] = labels[idx]!;
        else frame.reject(i, ErrorCodes.PIPELINE_ERROR, `Unseen index: ${javaDoubleString(index)} ?? (column "${input}")`, stage.uid);
      }
      frame.set(output, { type: 'string', values: out });
    },
  };
  return stage;
};

/**
 * OneHotEncoderModel: category c → a sparse vector with a 1 at c. dropLast removes the
 * last category's slot; handleInvalid=keep adds one for invalid values (the two cancel).
 * A fractional value inside the range is truncated, as Spark does.
 */
const oneHotEncoderModel: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  const categorySizes = ((row?.categorySizes ?? []) as (number | bigint)[]).map(Number);
  const { inputs, outputs } = columnPairs(ctx.params, () => defaultOutputCol(ctx));
  if (categorySizes.length !== inputs.length) throw new Error(`${categorySizes.length} category sizes for ${inputs.length} input columns`);
  const dropLast = ctx.params.boolean('dropLast', true);
  const keep = handleInvalid(ctx.params, 'error') === 'keep';
  const sizes = categorySizes.map((n) => (keep && !dropLast ? n + 1 : dropLast && !keep ? n - 1 : n));
  const empty = new Map(sizes.map((size) => [size, { size, indices: new Int32Array(0), values: new Float64Array(0) } as SparseVector]));
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    attributes: (before) => oneHotAttributes(before, inputs, outputs, categorySizes, dropLast, keep),
    transform(frame) {
      inputs.forEach((input, k) => {
        const col = frame.getTyped(input, 'double');
        const categories = categorySizes[k]!;
        const size = sizes[k]!;
        const out = new Array<Vector | null>(frame.length);
        for (let i = 0; i < out.length; i++) {
          out[i] = null;
          if (col.nulls?.[i]) continue;
          const label = col.values[i]!;
          let idx = label;
          if (!(label >= 0 && label < categories)) {
            if (keep) idx = categories;
            else {
              const message =
                label < 0
                  ? `Negative value: ${javaDoubleString(label)}. Input can't be negative. To handle invalid values, set Param handleInvalid to keep`
                  : `Unseen value: ${javaDoubleString(label)}. To handle unseen values, set Param handleInvalid to keep.`;
              frame.reject(i, ErrorCodes.PIPELINE_ERROR, `${message} (column "${input}")`, stage.uid);
              continue;
            }
          }
          out[i] = idx < size ? { size, indices: Int32Array.of(Math.trunc(idx)), values: Float64Array.of(1) } : empty.get(size)!;
        }
        frame.set(outputs[k]!, { type: 'vector', size, values: out });
      });
    },
  };
  return stage;
};

/**
 * VectorIndexerModel: replaces the values of categorical features by their category
 * index. Like Spark, a sparse vector's implicit zeros are left alone (value 0.0 always
 * maps to category 0 when it was seen at fit).
 */
const vectorIndexerModel: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  if (!row) throw new Error('VectorIndexerModel data is empty');
  const numFeatures = Number(row.numFeatures);
  const categoryMaps = new Map<number, { map: Map<number, number>; size: number }>();
  const categoryValues = new Map<number, number[]>();
  for (const [feature, categories] of Object.entries(row.categoryMaps as Record<string, Record<string, number | bigint>>)) {
    categoryValues.set(Number(feature), Object.keys(categories).map(Number));
    const map = new Map<number, number>();
    const entries = Object.entries(categories);
    // Scala's Map[Double, Int] never finds NaN (NaN != NaN); a JS Map would.
    for (const [value, index] of entries) if (!Number.isNaN(Number(value))) map.set(Number(value), Number(index));
    categoryMaps.set(Number(feature), { map, size: entries.length });
  }
  const sortedFeatures = Int32Array.from(categoryMaps.keys()).sort();
  const invalid = handleInvalid(ctx.params, 'error');
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    attributes: (before) => vectorIndexedAttributes(before, input, output, numFeatures, categoryValues, invalid === 'keep'),
    transform(frame) {
      const col = frame.getTyped(input, 'vector').values;
      const out = new Array<Vector | null>(col.length);
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        out[i] = null;
        if (v == null) {
          rejectNull(frame, i, stage, input);
          continue;
        }
        const size = v instanceof Float64Array ? v.length : v.size;
        if (size !== numFeatures) {
          frame.reject(i, ErrorCodes.PIPELINE_ERROR, `VectorIndexerModel expected vector of length ${numFeatures} but found length ${size}`, stage.uid);
          continue;
        }
        const values = v instanceof Float64Array ? Float64Array.from(v) : Float64Array.from(v.values);
        const indexOf = (k: number, feature: number): boolean => {
          const cats = categoryMaps.get(feature)!;
          const index = cats.map.get(values[k]!);
          if (index !== undefined) values[k] = index;
          else if (invalid === 'keep') values[k] = cats.size;
          else {
            const why = `VectorIndexer encountered invalid value ${javaDoubleString(values[k]!)} on feature index ${feature}`;
            if (invalid === 'skip') frame.reject(i, ErrorCodes.ROW_SKIPPED, `${why}; handleInvalid=skip dropped the row`, stage.uid);
            else frame.reject(i, ErrorCodes.PIPELINE_ERROR, `${why}. To handle or skip invalid value, try setting VectorIndexer.handleInvalid.`, stage.uid);
            return false;
          }
          return true;
        };
        let ok = true;
        if (v instanceof Float64Array) {
          for (const feature of sortedFeatures) ok = indexOf(feature, feature) && ok;
          if (ok) out[i] = values;
        } else {
          for (let c = 0, k = 0; c < sortedFeatures.length && k < v.indices.length; ) {
            const feature = sortedFeatures[c]!;
            if (feature < v.indices[k]!) c++;
            else if (feature > v.indices[k]!) k++;
            else {
              ok = indexOf(k, feature) && ok;
              c++;
            }
          }
          if (ok) out[i] = { size, indices: v.indices, values };
        }
      }
      frame.set(output, { type: 'vector', size: numFeatures, values: out });
    },
  };
  return stage;
};

export const indexerStages: Record<string, StageFactory> = {
  [ML + 'StringIndexerModel']: stringIndexerModel,
  [ML + 'IndexToString']: indexToString,
  [ML + 'OneHotEncoderModel']: oneHotEncoderModel,
  [ML + 'VectorIndexerModel']: vectorIndexerModel,
};
