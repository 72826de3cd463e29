import type { ParamReader } from '../../packages/spark-format.js';
import type { StageContext } from '../../pipeline/stage.js';

/** Spark's `handleInvalid` values. */
export type HandleInvalid = 'error' | 'skip' | 'keep';

export function handleInvalid(params: ParamReader, fallback: HandleInvalid = 'error'): HandleInvalid {
  const v = params.string('handleInvalid', fallback);
  if (v !== 'error' && v !== 'skip' && v !== 'keep') throw new Error(`unknown handleInvalid "${v}"`);
  return v;
}

/**
 * Single- or multi-column params (inputCol/outputCol vs inputCols/outputCols), as Spark's
 * HasInputCol(s)/HasOutputCol(s) stages store them.
 */
export function columnPairs(params: ParamReader, defaultOutput?: (input: string) => string): { inputs: string[]; outputs: string[] } {
  if (params.isSet('inputCols')) {
    const inputs = params.strings('inputCols');
    const outputs = params.strings('outputCols');
    if (inputs.length !== outputs.length) throw new Error('inputCols and outputCols differ in length');
    return { inputs, outputs };
  }
  const input = params.string('inputCol');
  const output = params.string('outputCol', defaultOutput?.(input));
  return { inputs: [input], outputs: [output] };
}

/** The uid-derived default Spark gives outputCol: `<uid>__output`. */
export function defaultOutputCol(ctx: StageContext): string {
  return `${ctx.metadata.uid}__output`;
}

/** Java's Double.toString, which Spark's cast to string and its error messages use. */
export function javaDoubleString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
