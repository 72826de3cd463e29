import { type Column, type Frame, PipelineError, type Vector, vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { assembledAttributes, interactionAttributes, interactionEncoders, sizeHintAttributes } from './attribute-rules.js';
import { defaultOutputCol, handleInvalid, javaDoubleString } from './common.js';
import { discretizerStages } from './discretizers.js';
import { EntryBuffer, compressedFromEntries, forEachActive } from './linalg.js';
import { projectionStages } from './projections.js';
import { scalerStages } from './scalers.js';
import { failRow, invalidRow, savedBefore } from './stage-helpers.js';

const ML = 'org.apache.spark.ml.feature.';

function assemblerInput(frame: Frame, name: string): Column {
  const col = frame.get(name);
  if (col.type !== 'double' && col.type !== 'boolean' && col.type !== 'vector') {
    throw new PipelineError(`VectorAssembler cannot assemble column "${name}" of type ${col.type}`);
  }
  return col;
}

/**
 * VectorAssembler: concatenates numeric, boolean and vector columns into one vector, built
 * sparse and then `.compressed` as Spark does (dense unless sparse is smaller).
 * handleInvalid: `error` fails a row holding a null (or a NaN number), `skip` drops it,
 * `keep` writes NaN in its place — for a null vector as many NaNs as the column's size.
 * Saves from before 2.4 have no handleInvalid: nulls fail, NaNs pass through.
 */
const vectorAssembler: StageFactory = (ctx) => {
  const uid = ctx.metadata.uid;
  const inputs = ctx.params.strings('inputCols');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const mode = handleInvalid(ctx.params, 'error');
  const nanIsInvalid = ctx.params.has('handleInvalid') || !savedBefore(ctx.metadata, 2, 4);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: [output],
    attributes: (before) => assembledAttributes(before, inputs, output),
    transform(frame) {
      const cols = inputs.map((name) => assemblerInput(frame, name));
      const lengths = cols.map((c) => (c.type === 'vector' ? c.size : 1));
      const total = lengths.every((l) => l >= 0) ? lengths.reduce((a, b) => a + b, 0) : -1;
      const n = frame.length;
      const out = new Array<Vector | null>(n).fill(null);
      const buf = new EntryBuffer(total > 0 ? total : 64);
      let outSize = total;
      rows: for (let i = 0; i < n; i++) {
        buf.count = 0;
        let at = 0;
        for (let c = 0; c < cols.length; c++) {
          const col = cols[c]!;
          const name = inputs[c]!;
          const value = cellValue(col, i);
          if (value === null) {
            if (mode !== 'keep') {
              invalidRow(frame, i, mode, `VectorAssembler: column "${name}" is null (handleInvalid=${mode})`, uid);
              continue rows;
            }
            const length = lengths[c]!;
            if (length < 0) {
              failRow(frame, i, `VectorAssembler: column "${name}" is null and its vector size is unknown, so handleInvalid=keep cannot fill it (add a VectorSizeHint)`, uid);
              continue rows;
            }
            for (let k = 0; k < length; k++) buf.push(at + k, NaN);
            at += length;
          } else if (typeof value === 'number') {
            if (value !== value && nanIsInvalid && mode !== 'keep') {
              invalidRow(frame, i, mode, `VectorAssembler: column "${name}" is NaN (handleInvalid=${mode})`, uid);
              continue rows;
            }
            if (value !== 0) buf.push(at, value);
            at += 1;
          } else {
            const base = at;
            forEachActive(value, (k, v) => {
              if (v !== 0) buf.push(base + k, v);
            });
            at += vectorSize(value);
          }
        }
        out[i] = compressedFromEntries(at, buf.indices, buf.values, buf.count);
        if (outSize < 0) outSize = at;
      }
      frame.set(output, { type: 'vector', size: outSize, values: out });
    },
  };
};

function cellValue(col: Column, i: number): number | Vector | null {
  switch (col.type) {
    case 'double':
      return col.nulls?.[i] ? null : col.values[i]!;
    case 'boolean': {
      const b = col.values[i];
      return b == null ? null : b ? 1 : 0;
    }
    case 'vector':
      return col.values[i] ?? null;
    default:
      return null;
  }
}

/**
 * VectorSizeHint: declares the size of a vector column (which VectorAssembler's
 * handleInvalid=keep needs) and checks it: `error` fails rows whose vector is null or of
 * another size, `skip` drops them, `optimistic` trusts the data.
 */
const vectorSizeHint: StageFactory = (ctx) => {
  const uid = ctx.metadata.uid;
  const input = ctx.params.string('inputCol');
  const size = ctx.params.number('size');
  const mode = ctx.params.string('handleInvalid', 'error');
  if (mode !== 'error' && mode !== 'skip' && mode !== 'optimistic') throw new Error(`unknown handleInvalid "${mode}"`);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [],
    attributes: (before) => sizeHintAttributes(before, input, size),
    transform(frame) {
      const values = frame.getTyped(input, 'vector').values;
      if (mode !== 'optimistic') {
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          if (v == null) {
            invalidRow(frame, i, mode, `VectorSizeHint: column "${input}" is null (handleInvalid=${mode})`, uid);
          } else {
            const got = vectorSize(v);
            if (got !== size) invalidRow(frame, i, mode, `VectorSizeHint: column "${input}" has a vector of size ${got}, expected ${size}`, uid);
          }
        }
      }
      frame.set(input, { type: 'vector', size, values });
    },
  };
};

/**
 * Interaction: the product of every combination of one value from each input, laid out
 * with the last input varying slowest, then `.compressed`. Each input feature is encoded as
 * Spark's FeatureEncoder does from the ML attributes: a nominal feature with n values
 * becomes a one-hot block of n (its value must be an index below n), any other feature one
 * slot holding its value. Inputs whose attributes are unknown are numeric.
 */
const interaction: StageFactory = (ctx) => {
  const uid = ctx.metadata.uid;
  const inputs = ctx.params.strings('inputCols');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  let encoders: (readonly number[] | undefined)[] = inputs.map(() => undefined);
  let offsets: (Int32Array | undefined)[] = encoders.map(() => undefined);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: [output],
    attributes(before) {
      encoders = interactionEncoders(before, inputs);
      offsets = encoders.map((e) => (e ? Int32Array.from(e, (_, k) => e.slice(0, k).reduce((x, y) => x + y, 0)) : undefined));
      return interactionAttributes(before, inputs, output);
    },
    transform(frame) {
      const cols = inputs.map((name) => assemblerInput(frame, name));
      const n = frame.length;
      const out = new Array<Vector | null>(n).fill(null);
      let outSize = -1;
      let prev = new EntryBuffer(16);
      let next = new EntryBuffer(16);
      rows: for (let i = 0; i < n; i++) {
        prev.count = 0;
        prev.push(0, 1);
        let size = 1;
        for (let c = cols.length - 1; c >= 0; c--) {
          const value = cellValue(cols[c]!, i);
          if (value === null) {
            failRow(frame, i, `Interaction: column "${inputs[c]}" is null`, uid);
            continue rows;
          }
          next.count = 0;
          const prevSize = size;
          const from = prev;
          const into = next;
          const emit = (k: number, a: number): void => {
            for (let j = 0; j < from.count; j++) into.push(from.indices[j]! + k * prevSize, from.values[j]! * a);
          };
          const encoder = encoders[c];
          let bad: string | undefined;
          const encode = (k: number, v: number, slots: number, offset: number): void => {
            if (slots <= 1) emit(offset, v);
            else if (v >= 0 && v === Math.trunc(v) && v < slots) emit(offset + v, 1);
            else bad ??= `Interaction: values from column "${inputs[c]}" must be indices below ${slots}, got ${javaDoubleString(v)} (feature ${k})`;
          };
          if (typeof value === 'number') {
            const slots = encoder?.[0] ?? 1;
            encode(0, value, slots, 0);
            size *= slots;
          } else if (encoder && encoder.length !== vectorSize(value)) {
            bad = `Interaction: column "${inputs[c]}" holds a vector of size ${vectorSize(value)}, its attributes describe ${encoder.length} features`;
          } else if (encoder) {
            const at = offsets[c]!;
            forEachActive(value, (k, v) => encode(k, v, encoder[k]!, at[k]!));
            size *= encoder.reduce((x, y) => x + y, 0);
          } else {
            forEachActive(value, emit);
            size *= vectorSize(value);
          }
          if (bad) {
            failRow(frame, i, bad, uid);
            continue rows;
          }
          [prev, next] = [next, prev];
        }
        out[i] = compressedFromEntries(size, prev.indices, prev.values, prev.count);
        if (outSize < 0) outSize = size;
      }
      frame.set(output, { type: 'vector', size: outSize, values: out });
    },
  };
};

export const featureStages: Record<string, StageFactory> = {
  [ML + 'VectorAssembler']: vectorAssembler,
  [ML + 'VectorSizeHint']: vectorSizeHint,
  [ML + 'Interaction']: interaction,
  ...scalerStages,
  ...discretizerStages,
  ...projectionStages,
};
