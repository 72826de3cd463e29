import type { PackageConfig } from '../../runtime/packages/package.js';
import { parseInputSchema } from '../../runtime/pipeline/input-schema.js';
import { readCsv } from './csv.js';
import { cellValue, targetColumn, type SparkOutputsLayout } from './layout.js';
import { isRejection, type Outcome, type SyntheticSpec } from './types.js';

/** Probabilities and regression values must agree with Spark's to this much. */
export const TOLERANCE = 1e-9;

/** Problems listed per fixture before the rest are only counted. */
const MAX_LISTED = 5;

export interface Comparison {
  readonly records: number;
  readonly target: string;
  readonly outputs: Outcome[];
  readonly matches: number;
  readonly maxProbabilityError?: number;
  readonly maxValueError?: number;
  readonly problems: string[];
}

/**
 * Feeds every input row to the package and compares each output with the row Spark wrote:
 * the prediction (mapped label, the number itself for regression and clustering, or each
 * element of a vector written as a JSON array), and every `probability(<label>)` column
 * within TOLERANCE. With `float32`, numbers must equal Spark's once both are rounded to
 * float32 (Spark's float columns come printed with more digits than a float holds).
 */
export async function compareWithSpark(
  layout: SparkOutputsLayout,
  config: PackageConfig,
  predict: (records: Record<string, unknown>[]) => Promise<Outcome[]>,
  float32 = false,
): Promise<Comparison> {
  const input = readCsv(layout.input);
  const expected = readCsv(layout.expected);
  const fields = parseInputSchema(config.input_schema);
  const columns = fields.map((f) => ({ name: f.name, type: f.type as string, k: input.header.indexOf(f.name) }));
  const records = input.rows.map((r) => Object.fromEntries(columns.map(({ name, type, k }) => [name, cellValue(r[k], type)])));
  const problems: string[] = [];
  if (expected.rows.length !== records.length) problems.push(`${records.length} input rows but ${expected.rows.length} expected rows`);

  const outputs = await predict(records);
  const target = targetColumn(expected);
  const targetAt = expected.header.indexOf(target);
  const byLabel = Object.keys(config.output_labels ?? {}).length > 0;
  const probabilities = expected.header
    .map((h, k) => ({ label: /^probability\((.*)\)$/.exec(h)?.[1], k }))
    .filter((p): p is { label: string; k: number } => p.label !== undefined);

  let matches = 0;
  let maxProbabilityError = probabilities.length ? 0 : undefined;
  let maxValueError = byLabel ? undefined : 0;
  let mismatched = 0;
  const report = (i: number, why: string): void => {
    if (++mismatched <= MAX_LISTED) problems.push(`row ${i}: ${why}`);
  };
  outputs.forEach((o, i) => {
    const row = expected.rows[i];
    if (!row) return;
    if (isRejection(o) || o === undefined) return report(i, `no prediction (${o?.message ?? 'missing'})`);
    const want = row[targetAt]!;
    let ok = true;
    if (byLabel) {
      if (String(o.prediction) !== want) {
        ok = false;
        report(i, `prediction ${String(o.prediction)}, Spark ${want}`);
      }
    } else {
      const wanted = want.startsWith('[') ? (JSON.parse(want) as number[]) : [Number(want)];
      const got = Array.isArray(o.prediction) ? (o.prediction as number[]) : [Number(o.prediction)];
      const integral = /^-?\d+$/.test(want);
      const round = float32 ? Math.fround : (x: number) => x;
      const err = got.length === wanted.length ? Math.max(0, ...wanted.map((w, k) => Math.abs(round(got[k]!) - round(w)) / Math.max(1, Math.abs(w)))) : Infinity;
      if (!integral) maxValueError = Math.max(maxValueError!, Number.isNaN(err) ? Infinity : err);
      if (integral || float32 ? err !== 0 : !(err <= TOLERANCE)) {
        ok = false;
        report(i, `value ${JSON.stringify(o.prediction)}, Spark ${want}`);
      }
    }
    for (const { label, k } of probabilities) {
      const got = o.probability?.[label];
      const err = got === undefined ? Infinity : Math.abs(got - Number(row[k]));
      maxProbabilityError = Math.max(maxProbabilityError!, Number.isNaN(err) ? Infinity : err);
      if (!(err <= TOLERANCE)) {
        ok = false;
        report(i, `probability(${label}) ${got}, Spark ${row[k]}`);
      }
    }
    if (ok) matches++;
  });
  if (mismatched > MAX_LISTED) problems.push(`… ${mismatched - MAX_LISTED} more mismatches`);
  return { records: records.length, target, outputs, matches, maxProbabilityError, maxValueError, problems };
}

/** Rows whose Spark output is known from elsewhere: counted as matches, probabilities within TOLERANCE. */
export function compareKnownPredictions(
  outputs: readonly Outcome[],
  spark: NonNullable<SyntheticSpec['spark']>,
  problems: string[],
): { sparkRows: number; matches: number; maxProbabilityError: number } {
  let sparkRows = 0;
  let matches = 0;
  let maxProbabilityError = 0;
  outputs.forEach((o, i) => {
    const want = spark(i);
    if (!want) return;
    sparkRows++;
    if (isRejection(o)) return void problems.push(`row ${i}: no prediction (${o.message})`);
    let ok = String(o.prediction) === want.prediction;
    for (const [label, p] of Object.entries(want.probability)) {
      const err = Math.abs((o.probability?.[label] ?? Infinity) - p);
      maxProbabilityError = Math.max(maxProbabilityError, err);
      ok &&= err <= TOLERANCE;
    }
    if (ok) matches++;
    else problems.push(`row ${i}: ${JSON.stringify(o)}, Spark ${JSON.stringify(want)}`);
  });
  return { sparkRows, matches, maxProbabilityError };
}

/** Vectors whose Spark output is known from elsewhere, each element within TOLERANCE. */
export function compareKnownVectors(
  vectors: readonly (number[] | null)[],
  spark: readonly (readonly number[])[],
  problems: string[],
): { sparkRows: number; matches: number; maxValueError: number } {
  let matches = 0;
  let maxValueError = 0;
  spark.forEach((want, i) => {
    const got = vectors[i];
    const err = got && got.length === want.length ? Math.max(...want.map((x, k) => Math.abs(got[k]! - x))) : Infinity;
    maxValueError = Math.max(maxValueError, err);
    if (err <= TOLERANCE) matches++;
    else problems.push(`row ${i}: ${JSON.stringify(got)}, Spark ${JSON.stringify(want)}`);
  });
  return { sparkRows: spark.length, matches, maxValueError };
}
