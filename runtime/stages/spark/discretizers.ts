import { type Frame, PipelineError, type Vector, vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { binarizedAttributes, bucketAttributes } from './attribute-rules.js';
import { columnPairs, defaultOutputCol, handleInvalid } from './common.js';
import { EntryBuffer, compressedFromDense, compressedFromEntries, forEachActive } from './linalg.js';
import { failRow, invalidRow, savedBefore } from './stage-helpers.js';

const ML = 'org.apache.spark.ml.feature.';

/**
 * Binarizer: 1.0 where a value is above the threshold, else 0.0 (NaN gives 0.0), on
 * number or vector columns, single- or multi-column (`thresholds`, one per column).
 * Since 3.0 a null number gives 0.0 and a negative threshold sets every implicit zero of
 * a vector to 1.0; before, a null stayed null and only stored entries were compared.
 * Vector outputs are `.compressed`.
 */
const binarizer: StageFactory = (ctx) => {
  const uid = ctx.metadata.uid;
  const { inputs, outputs } = columnPairs(ctx.params, () => defaultOutputCol(ctx));
  const threshold = ctx.params.number('threshold', 0);
  const thresholds = ctx.params.isSet('inputCols') && ctx.params.isSet('thresholds') ? ctx.params.numbers('thresholds') : inputs.map(() => threshold);
  if (thresholds.length !== inputs.length) throw new Error('thresholds and inputCols differ in length');
  const legacy = savedBefore(ctx.metadata, 3);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    attributes: (before) => binarizedAttributes(before, inputs, outputs),
    transform(frame) {
      inputs.forEach((name, c) => {
        const td = thresholds[c]!;
        const col = frame.get(name);
        if (col.type === 'double') {
          const values = new Float64Array(col.values.length);
          for (let i = 0; i < values.length; i++) values[i] = col.nulls?.[i] !== 1 && col.values[i]! > td ? 1 : 0;
          const keepNulls = legacy && col.nulls;
          frame.set(outputs[c]!, keepNulls ? { type: 'double', values, nulls: col.nulls } : { type: 'double', values });
        } else if (col.type === 'vector') {
          const out = col.values.map((v, i) => {
            if (v == null) {
              failRow(frame, i, `Binarizer: column "${name}" is null`, uid);
              return null;
            }
            return binarizeVector(v, td, legacy);
          });
          frame.set(outputs[c]!, { type: 'vector', size: col.size, values: out });
        } else {
          throw new PipelineError(`Binarizer cannot read column "${name}" of type ${col.type}`);
        }
      });
    },
  };
};

function binarizeVector(v: Vector, td: number, legacy: boolean): Vector {
  const size = vectorSize(v);
  if (legacy || td >= 0) {
    const buf = new EntryBuffer(8);
    forEachActive(v, (i, x) => {
      if (x > td && (legacy || x !== 0)) buf.push(i, 1);
    });
    return compressedFromEntries(size, buf.indices, buf.values, buf.count);
  }
  const values = new Float64Array(size).fill(1);
  forEachActive(v, (i, x) => {
    if (x !== 0 && x <= td) values[i] = 0;
  });
  return compressedFromDense(values);
}

/** Java's Double.compare for non-NaN values: -0.0 sorts below 0.0. */
function javaCompare(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (Object.is(a, b)) return 0;
  return Object.is(a, -0) ? -1 : 1;
}

/**
 * The bucket of x: `Arrays.binarySearch` over the splits, the last split closing the last
 * bucket. -1 when x lies outside [splits[0], splits[last]].
 */
export function bucketOf(splits: Float64Array, x: number): number {
  const last = splits.length - 1;
  if (x === splits[last]) return last - 1;
  let lo = 0;
  let hi = last;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = javaCompare(splits[mid]!, x);
    if (c < 0) lo = mid + 1;
    else if (c > 0) hi = mid - 1;
    else return mid;
  }
  return lo === 0 || lo === splits.length ? -1 : lo - 1;
}

/**
 * Bucketizer: maps a number to the index of its bucket among the splits (splitsArray for
 * the multi-column form). A value outside the splits always fails the row. NaN or null:
 * `error` fails the row, `skip` drops it (a null or NaN in any input column drops the
 * row), `keep` puts it in an extra bucket numbered splits.length - 1.
 */
const bucketizer: StageFactory = (ctx) => {
  const uid = ctx.metadata.uid;
  const { inputs, outputs } = columnPairs(ctx.params, () => defaultOutputCol(ctx));
  const splitsPerCol = ctx.params.isSet('inputCols')
    ? readSplitsArray(ctx.params.raw('splitsArray'))
    : [Float64Array.from(ctx.params.numbers('splits'))];
  if (splitsPerCol.length !== inputs.length) throw new Error('splitsArray and inputCols differ in length');
  for (const s of splitsPerCol) {
    if (s.length < 3) throw new Error('Bucketizer splits need at least 3 values');
  }
  const mode = handleInvalid(ctx.params, 'error');
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    attributes: () => bucketAttributes(outputs, splitsPerCol),
    transform(frame) {
      const cols = inputs.map((name) => frame.getTyped(name, 'double'));
      if (mode === 'skip') dropInvalidRows(frame, cols, inputs, uid);
      cols.forEach((col, c) => {
        const splits = splitsPerCol[c]!;
        const values = new Float64Array(col.values.length);
        for (let i = 0; i < values.length; i++) {
          const x = col.values[i]!;
          if (col.nulls?.[i] === 1 || x !== x) {
            if (mode === 'keep') values[i] = splits.length - 1;
            else if (mode === 'error') failRow(frame, i, `Bucketizer: column "${inputs[c]}" is NaN or null (handleInvalid=error)`, uid);
            continue;
          }
          const bucket = bucketOf(splits, x);
          if (bucket < 0) failRow(frame, i, `Bucketizer: value ${x} of column "${inputs[c]}" is outside the splits [${splits[0]}, ${splits[splits.length - 1]}]`, uid);
          else values[i] = bucket;
        }
        frame.set(outputs[c]!, { type: 'double', values });
      });
    },
  };
};

function dropInvalidRows(frame: Frame, cols: { values: Float64Array; nulls?: Uint8Array }[], names: string[], uid: string): void {
  for (let i = 0; i < frame.length; i++) {
    const c = cols.findIndex((col) => col.nulls?.[i] === 1 || col.values[i] !== col.values[i]);
    if (c >= 0) invalidRow(frame, i, 'skip', `Bucketizer: column "${names[c]}" is NaN or null (handleInvalid=skip)`, uid);
  }
}

function readSplitsArray(raw: unknown): Float64Array[] {
  if (!Array.isArray(raw) || !raw.every(Array.isArray)) throw new Error('param "splitsArray" must be a list of lists of numbers');
  return (raw as unknown[][]).map((splits) => Float64Array.from(splits, toDouble));
}

function toDouble(x: unknown): number {
  if (typeof x === 'number') return x;
  if (x === 'Infinity' || x === 'Inf') return Infinity;
  if (x === '-Infinity' || x === '-Inf') return -Infinity;
  if (x === 'NaN') return NaN;
  throw new Error(`not a number in splits: ${JSON.stringify(x)}`);
}

export const discretizerStages: Record<string, StageFactory> = {
  [ML + 'Binarizer']: binarizer,
  [ML + 'Bucketizer']: bucketizer,
};
