import { PipelineError } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { javaDoubleString } from './common.js';
import { failRow } from './stage-helpers.js';

/**
 * TargetEncoderModel (Spark 4.0+): each input column holds category indices; each output
 * column gets the category's encoding, blended with the overall statistic by `smoothing`:
 * with weight w = count / (count + smoothing), a binary target encodes as
 * `w·(positives/count) + (1-w)·(all positives/all count)` and a continuous one as
 * `w·mean + (1-w)·overall mean`. Spark saves the raw statistics, one data row per input
 * column (`index`, `categories`, `counts`, `stats`), with the overall ones under category
 * 2147483647 and the null category under -1, and blends them at transform time with the
 * saved smoothing — so the encodings are computed here once, at load.
 * handleInvalid: `keep` encodes an unseen category (and an unseen null) with the overall
 * statistic; `error` fails the row with Spark's message.
 */

const ML = 'org.apache.spark.ml.feature.';

const UNSEEN_CATEGORY = 2147483647;
const NULL_CATEGORY = -1;

interface Encoding {
  readonly byCategory: Map<number, number>;
  readonly unseen: number;
  readonly seenNull: number | undefined;
}

function encodings(row: Record<string, unknown>, binary: boolean, smoothing: number): Encoding {
  const categories = numbers(row.categories, 'categories');
  const counts = numbers(row.counts, 'counts');
  const stats = numbers(row.stats, 'stats');
  if (counts.length !== categories.length || stats.length !== categories.length) throw new Error('data/ categories, counts and stats differ in length');
  const overallAt = categories.indexOf(UNSEEN_CATEGORY);
  if (overallAt < 0) throw new Error(`data/ row ${String(row.index)} has no overall statistics (category ${UNSEEN_CATEGORY})`);
  const overallCount = counts[overallAt]!;
  const overallStat = stats[overallAt]!;
  const encode = (count: number, stat: number): number => {
    const w = count / (count + smoothing);
    return binary ? w * (stat / count) + (1 - w) * (overallStat / overallCount) : w * stat + (1 - w) * overallStat;
  };
  const byCategory = new Map<number, number>();
  let seenNull: number | undefined;
  categories.forEach((c, k) => {
    const e = encode(counts[k]!, stats[k]!);
    if (c === NULL_CATEGORY) seenNull = e;
    else if (c !== UNSEEN_CATEGORY) byCategory.set(c, e);
  });
  return { byCategory, unseen: encode(overallCount, overallStat), seenNull };
}

function numbers(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`data/ has no ${what} list`);
  return v.map(Number);
}

const targetEncoder: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const inputs = ctx.params.isSet('inputCol') ? [ctx.params.string('inputCol')] : ctx.params.strings('inputCols', []);
  if (inputs.length === 0) throw new Error('At least one input column must be specified.');
  const outputs = ctx.params.isSet('outputCol')
    ? [ctx.params.string('outputCol')]
    : ctx.params.isSet('outputCols')
      ? ctx.params.strings('outputCols')
      : inputs.map((c) => `${c}_indexed`);
  if (outputs.length !== inputs.length) throw new Error(`The number of input columns ${inputs.length} must be the same as the number of output columns ${outputs.length}.`);
  const targetType = ctx.params.string('targetType', 'binary');
  if (targetType !== 'binary' && targetType !== 'continuous') throw new Error(`unknown targetType "${targetType}"`);
  const keep = ctx.params.string('handleInvalid', 'error') === 'keep';
  const smoothing = ctx.params.number('smoothing', 0);
  const rows = [...(await ctx.readData())].sort((a, b) => Number(a.index) - Number(b.index));
  if (rows.length !== inputs.length) throw new Error(`The number of features does not match the number of encodings in the model (${rows.length}). Found ${inputs.length} features)`);
  const tables = rows.map((r) => encodings(r, targetType === 'binary', smoothing));
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    transform(frame) {
      inputs.forEach((name, c) => {
        const col = frame.get(name);
        if (col.type !== 'double') throw new PipelineError(`Data type for column ${name} is ${col.type}, but a numeric type is required.`);
        const { byCategory, unseen, seenNull } = tables[c]!;
        const values = new Float64Array(col.values.length);
        for (let i = 0; i < values.length; i++) {
          const isNull = col.nulls?.[i] === 1;
          const known = isNull ? seenNull : byCategory.get(col.values[i]!);
          if (known !== undefined) values[i] = known;
          else if (keep) values[i] = unseen;
          else {
            const shown = isNull ? 'null' : col.sqlType === 'INTEGER' || col.sqlType === 'LONG' ? String(col.values[i]) : javaDoubleString(col.values[i]!);
            failRow(frame, i, `TargetEncoderModel: Unseen value ${shown} in feature ${name}. To handle unseen values, set Param handleInvalid to keep.`, uid);
          }
        }
        frame.set(outputs[c]!, { type: 'double', values });
      });
    },
  };
};

export const targetEncoderStages: Record<string, StageFactory> = {
  [ML + 'TargetEncoderModel']: targetEncoder,
};
