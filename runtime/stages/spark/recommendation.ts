/**
 * ALSModel: a (user, item) pair in, the predicted rating out. Spark joins the pair with the
 * saved `userFactors/` and `itemFactors/` (rows `id INT, features ARRAY<FLOAT>`) and sums
 * the factors' products in float32, left to right; the rating is a FLOAT. A pair with no
 * factors on either side is cold: `coldStartStrategy=nan` gives NaN (written as a null
 * prediction), `drop` — where Spark would silently drop the row — gives a COLD_START error
 * record, so every input still has an output.
 */
import { ErrorCodes } from '../../errors.js';
import type { Frame } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { failRow } from './stage-helpers.js';

const ML = 'org.apache.spark.ml.recommendation.';

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Factor rows packed into one float32 array, found by id. */
interface Factors {
  readonly offsets: Map<number, number>;
  readonly values: Float32Array;
}

async function readFactors(ctx: StageContext, sub: string, rank: number): Promise<Factors> {
  const rows = await ctx.readData(sub);
  const values = new Float32Array(rows.length * rank);
  const offsets = new Map<number, number>();
  rows.forEach((r, k) => {
    const id = Number(r.id);
    const features = r.features as number[] | null;
    if (!Number.isInteger(id)) throw new Error(`${sub}/ has a row whose id is not an integer`);
    if (!Array.isArray(features) || features.length !== rank) {
      throw new Error(`${sub}/ row for id ${id} has ${Array.isArray(features) ? features.length : 'no'} factors, rank is ${rank}`);
    }
    if (offsets.has(id)) throw new Error(`${sub}/ holds id ${id} twice`);
    offsets.set(id, k * rank);
    values.set(features, k * rank);
  });
  return { offsets, values };
}

/** The float32 dot product, accumulated left to right as the Scala UDF does. */
function floatDot(a: Float32Array, ao: number, b: Float32Array, bo: number, rank: number): number {
  let s = 0;
  for (let k = 0; k < rank; k++) s = Math.fround(s + Math.fround(a[ao + k]! * b[bo + k]!));
  return s;
}

/**
 * ALSModelParams.checkIntegers: a null id, or one with a fraction or outside Java's int
 * range, fails the row with Spark's message. Returns the id, or undefined after failing it.
 */
function checkedId(frame: Frame, i: number, column: string, uid: string): number | undefined {
  const col = frame.getTyped(column, 'double');
  const v = col.values[i]!;
  if (col.nulls?.[i]) {
    failRow(frame, i, `ALSModel: ${column} Ids MUST NOT be Null`, uid);
    return undefined;
  }
  if (!Number.isInteger(v) || v < INT_MIN || v > INT_MAX) {
    failRow(frame, i, `ALSModel: ALS only supports non-Null values in Integer range and without fractional part for column ${column}, but got ${v}`, uid);
    return undefined;
  }
  return v;
}

const als: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const rank = Number(ctx.metadata.rank);
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`metadata "rank" is ${JSON.stringify(ctx.metadata.rank)}, expected a positive integer`);
  const userCol = ctx.params.string('userCol', 'user');
  const itemCol = ctx.params.string('itemCol', 'item');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const strategy = ctx.params.string('coldStartStrategy', 'nan').toLowerCase();
  if (strategy !== 'nan' && strategy !== 'drop') throw new Error(`unknown coldStartStrategy "${strategy}" (Spark knows nan, drop)`);
  const users = await readFactors(ctx, 'userFactors', rank);
  const items = await readFactors(ctx, 'itemFactors', rank);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [userCol, itemCol],
    outputCols: [predictionCol],
    modelOutputs: { predictionCol },
    transform(frame) {
      const out = new Float64Array(frame.length);
      for (let i = 0; i < frame.length; i++) {
        const user = checkedId(frame, i, userCol, uid);
        const item = user === undefined ? undefined : checkedId(frame, i, itemCol, uid);
        if (item === undefined) continue;
        const uo = users.offsets.get(user!);
        const io = items.offsets.get(item);
        if (uo !== undefined && io !== undefined) {
          out[i] = floatDot(users.values, uo, items.values, io, rank);
          continue;
        }
        if (strategy === 'nan') {
          out[i] = NaN;
          continue;
        }
        const missing = [uo === undefined ? `${userCol} ${user}` : '', io === undefined ? `${itemCol} ${item}` : ''].filter(Boolean).join(' and ');
        frame.reject(i, ErrorCodes.COLD_START, `ALSModel: no factors for ${missing}; coldStartStrategy=drop would drop the row`, uid);
      }
      frame.set(predictionCol, { type: 'double', values: out, sqlType: 'FLOAT' });
    },
  };
};

export const recommendationStages: Record<string, StageFactory> = {
  [ML + 'ALSModel']: als,
};
