import type { StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol } from './common.js';

const ML = 'org.apache.spark.ml.feature.';

/**
 * Tokenizer: lower-cases and splits on single whitespace characters, exactly like Java's
 * `String.split("\\s")`: runs of spaces yield empty tokens, trailing empty strings are dropped.
 */
const tokenizer: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const col = frame.getTyped(input, 'string').values;
      const out = new Array<string[] | null>(col.length);
      for (let i = 0; i < col.length; i++) {
        const s = col[i];
        out[i] = s == null ? null : javaSplit(s.toLowerCase(), /\s/);
      }
      frame.set(output, { type: 'strings', values: out });
    },
  };
};

/** Java's String.split(regex): drops trailing empty strings (and a leading one for a zero-width match only). */
export function javaSplit(s: string, re: RegExp): string[] {
  const parts = s.split(re);
  if (parts.length === 1) return parts;
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  return end === parts.length ? parts : parts.slice(0, end);
}

export const textStages: Record<string, StageFactory> = {
  [ML + 'Tokenizer']: tokenizer,
};
