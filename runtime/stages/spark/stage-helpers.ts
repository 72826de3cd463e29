import { ErrorCodes } from '../../errors.js';
import type { Frame, Vector } from '../../pipeline/frame.js';
import type { Stage, StageContext } from '../../pipeline/stage.js';
import type { SparkMetadata } from '../../packages/spark-format.js';
import type { HandleInvalid } from './common.js';

/**
 * Some stages changed their arithmetic between Spark releases (e.g. MinMaxScaler divides
 * before 3.0 and multiplies by a precomputed ratio since); the saving version picks the
 * formula. A missing version is taken as current.
 */
export function savedBefore(metadata: SparkMetadata, major: number, minor = 0): boolean {
  return !atLeast(sparkVersionOf(metadata), major, minor);
}

export interface SparkVersion {
  readonly major: number;
  readonly minor: number;
}

/** The Spark version that saved a stage; a missing or odd value counts as the newest. */
export function sparkVersionOf(metadata: SparkMetadata): SparkVersion {
  const m = /^(\d+)\.(\d+)/.exec(metadata.sparkVersion ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : { major: 99, minor: 0 };
}

export function atLeast(v: SparkVersion, major: number, minor = 0): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Marks row i as failed (handleInvalid=error) or dropped (skip), as Spark would. */
export function invalidRow(frame: Frame, i: number, mode: HandleInvalid | 'optimistic', message: string, uid: string): void {
  if (mode === 'skip') frame.reject(i, ErrorCodes.ROW_SKIPPED, message, uid);
  else frame.reject(i, ErrorCodes.PIPELINE_ERROR, message, uid);
}

/** Fails row i: the stage cannot compute it (a null input, a vector of the wrong size). */
export function failRow(frame: Frame, i: number, message: string, uid: string): void {
  frame.reject(i, ErrorCodes.PIPELINE_ERROR, message, uid);
}

/**
 * A stage mapping one vector column to another row by row. `apply` returns the new vector,
 * or a message when the row cannot be computed; a null input fails the row, as the NPE in
 * Spark's UDF would fail the job. A null outputSize keeps the input column's size; a
 * function derives it from the input column's size (-1 when unknown).
 */
export function vectorMapStage(
  ctx: StageContext,
  input: string,
  output: string,
  outputSize: number | null | ((inputSize: number) => number),
  apply: (v: Vector) => Vector | string,
): Stage {
  const uid = ctx.metadata.uid;
  const name = ctx.metadata.class.slice(ctx.metadata.class.lastIndexOf('.') + 1);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const col = frame.getTyped(input, 'vector');
      const values = col.values;
      const out = new Array<Vector | null>(values.length).fill(null);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v == null) {
          failRow(frame, i, `${name}: column "${input}" is null`, uid);
          continue;
        }
        const r = apply(v);
        if (typeof r === 'string') failRow(frame, i, `${name}: ${r}`, uid);
        else out[i] = r;
      }
      const size = typeof outputSize === 'function' ? (col.size >= 0 ? outputSize(col.size) : -1) : (outputSize ?? col.size);
      frame.set(output, { type: 'vector', size, values: out });
    },
  };
}

/**
 * The stage of a wrapper whose saved folder only holds other saved objects: the loader
 * replaces it by `stages`, so it is never run itself.
 */
export function expandedInto(ctx: StageContext, stages: readonly Stage[]): Stage {
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [],
    outputCols: [],
    expandsTo: stages,
    transform() {
      throw new Error(`${ctx.metadata.class} ${ctx.metadata.uid} is replaced by its inner stages when it loads`);
    },
  };
}
