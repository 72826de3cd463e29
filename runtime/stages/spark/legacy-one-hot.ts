import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Vector } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { ParamReader, readMetadata, readParquetRows, stageDirName, type SparkMetadata } from '../../packages/spark-format.js';
import { defaultOutputCol } from './common.js';
import { failRow, savedBefore } from './stage-helpers.js';

/**
 * The Spark 1.x/2.x `feature.OneHotEncoder`, a Transformer with no fitted data (Spark 3.0
 * gave its name to the estimator; a saved PipelineModel holding the class itself is a 2.x
 * save). A category index c becomes a vector with 1.0 at c; with dropLast (the default)
 * the last category becomes the all-zero vector; an index at or past the vector size
 * gives the all-zero vector, a fractional one is truncated, a null stays null.
 *
 * Its size is the input column's number of categories, which Spark reads from the
 * column's ML attributes — in a saved pipeline those come from the StringIndexerModel
 * (its labels, plus the "__unknown" slot with handleInvalid=keep) or the Bucketizer (its
 * buckets) that wrote the column. That stage is found among the earlier stages of the
 * same pipeline folder at load. Without one Spark would count the categories in the batch
 * it transforms, which a stream cannot do the same way, so the package is refused.
 */

const ML = 'org.apache.spark.ml.feature.';

const legacyOneHotEncoder: StageFactory = async (ctx) => {
  if (!savedBefore(ctx.metadata, 3)) {
    throw new Error(`saved by Spark ${ctx.metadata.sparkVersion}, where OneHotEncoder is the unfitted estimator; save the fitted pipeline (its OneHotEncoderModel) instead`);
  }
  const uid = ctx.metadata.uid;
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const dropLast = ctx.params.boolean('dropLast', true);
  const categories = await categoriesOf(ctx, input);
  if (dropLast && categories < 2) throw new Error(`The input column ${input} should have at least two distinct values.`);
  const size = dropLast ? categories - 1 : categories;
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const col = frame.getTyped(input, 'double');
      const out = new Array<Vector | null>(col.values.length);
      for (let i = 0; i < out.length; i++) {
        const label = col.values[i]!;
        if (col.nulls?.[i] === 1) out[i] = null;
        else if (label < size && label >= 0) out[i] = { size, indices: Int32Array.of(Math.trunc(label)), values: Float64Array.of(1) };
        else if (label < 0) {
          failRow(frame, i, `OneHotEncoder: category index ${label} of column "${input}" is negative`, uid);
          out[i] = null;
        } else out[i] = { size, indices: new Int32Array(0), values: new Float64Array(0) };
      }
      frame.set(output, { type: 'vector', size, values: out });
    },
  };
};

/** The number of categories of `column`, from the earlier stage of the same pipeline that writes it. */
async function categoriesOf(ctx: StageContext, column: string): Promise<number> {
  const unknown = (why: string): Error =>
    new Error(
      `the number of categories of column "${column}" is unknown: ${why}. Spark's 2.x OneHotEncoder reads it from the ML attributes a ` +
        'StringIndexerModel or Bucketizer earlier in the pipeline gives the column',
    );
  const stagesDir = dirname(ctx.dir);
  const position = /^(\d+)_/.exec(basename(ctx.dir));
  if (basename(stagesDir) !== 'stages' || !position) throw unknown('the encoder is not a stage of a saved pipeline');
  const pipeline = await readMetadata(dirname(stagesDir));
  const uids = (pipeline.paramMap?.stageUids ?? []) as string[];
  for (let j = Number(position[1]) - 1; j >= 0; j--) {
    const dir = await stageDir(stagesDir, j, uids.length, uids[j]!);
    const metadata = await readMetadata(dir);
    const params = new ParamReader(metadata, join(dir, 'metadata'));
    const outputs = params.isSet('outputCols') ? params.strings('outputCols') : [params.optionalString('outputCol')];
    const at = outputs.indexOf(column);
    if (at < 0) continue;
    const count = await categoriesWritten(dir, metadata, params, at);
    if (count === undefined) throw unknown(`it is written by ${metadata.class}, which gives it no nominal attribute`);
    return count;
  }
  throw unknown('no earlier stage writes it (it comes from the input)');
}

async function categoriesWritten(dir: string, metadata: SparkMetadata, params: ParamReader, at: number): Promise<number | undefined> {
  if (metadata.class === ML + 'StringIndexerModel') {
    const row = (await readParquetRows(dir))[0];
    const labels = (row?.labelsArray as string[][] | undefined)?.[at] ?? (row?.labels as string[] | undefined) ?? params.strings('labels', []);
    return labels.length + (params.string('handleInvalid', 'error') === 'keep' ? 1 : 0);
  }
  if (metadata.class === ML + 'Bucketizer') {
    const splits = params.isSet('splitsArray') ? (params.raw('splitsArray') as unknown[][])[at] : params.numbers('splits');
    return splits ? splits.length - 1 : undefined;
  }
  return undefined;
}

async function stageDir(stagesDir: string, index: number, total: number, uid: string): Promise<string> {
  const padded = join(stagesDir, stageDirName(index, total, uid));
  try {
    await access(padded);
    return padded;
  } catch {
    return join(stagesDir, `${index}_${uid}`);
  }
}

export const legacyOneHotStages: Record<string, StageFactory> = {
  [ML + 'OneHotEncoder']: legacyOneHotEncoder,
};
