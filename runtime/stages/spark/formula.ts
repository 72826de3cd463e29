/**
 * RFormulaModel and the two private stages its inner pipeline holds. An RFormulaModel
 * scores by running `pipelineModel/` (string indexers, one-hot encoders, an assembler, then
 * VectorAttributeRewriter and ColumnPruner), so it is replaced by those stages. Inside that
 * folder several stages share the RFormula's uid; the loader finds each by `<index>_<uid>`.
 * The label column is never an input when serving, so Spark's label cast does not arise.
 */
import { join } from 'node:path';
import type { StageFactory } from '../../pipeline/stage.js';
import { rewrittenAttributes } from './attribute-rules.js';
import { expandedInto } from './stage-helpers.js';

const ML = 'org.apache.spark.ml.feature.';

const rFormulaModel: StageFactory = async (ctx) => expandedInto(ctx, await ctx.loadNested(join(ctx.dir, 'pipelineModel')));

/** ColumnPruner: drops the formula's intermediate columns (indices, one-hot vectors) from the frame. */
const columnPruner: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  const prune = row?.columnsToPrune;
  if (!Array.isArray(prune) || !prune.every((c) => typeof c === 'string')) throw new Error('ColumnPruner data has no columnsToPrune list');
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [],
    outputCols: [],
    transform(frame) {
      for (const c of prune) frame.columns.delete(c);
    },
  };
};

/**
 * VectorAttributeRewriter: renames the ML attributes of the assembled vector (prefixes such
 * as `onehot_<uid>_` become the formula's column names); the values are left as they are.
 */
const vectorAttributeRewriter: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  const vectorCol = row?.vectorCol;
  if (typeof vectorCol !== 'string') throw new Error('VectorAttributeRewriter data has no vectorCol');
  const prefixes = new Map(Object.entries((row?.prefixesToRewrite ?? {}) as Record<string, string>));
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [vectorCol],
    outputCols: [],
    attributes: (before) => rewrittenAttributes(before, vectorCol, prefixes),
    transform() {},
  };
};

export const formulaStages: Record<string, StageFactory> = {
  [ML + 'RFormulaModel']: rFormulaModel,
  [ML + 'ColumnPruner']: columnPruner,
  [ML + 'VectorAttributeRewriter']: vectorAttributeRewriter,
};
