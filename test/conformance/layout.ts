import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageConfig } from '../../runtime/packages/package.js';
import { readMetadata, readParquetRows, stageDirName } from '../../runtime/packages/spark-format.js';
import { parseInputSchema } from '../../runtime/pipeline/input-schema.js';
import { readCsv, type CsvTable } from './csv.js';
import type { SampleSpec } from './types.js';

/**
 * The jpmml-sparkml layout: the input rows, Spark's outputs for them, and the input's Spark
 * schema (absent where the fixture's entry in fixtures.ts gives the config instead).
 */
export interface SparkOutputsLayout {
  readonly input: string;
  readonly expected: string;
  readonly schema?: string;
}

export function sparkOutputsLayout(fixtureDir: string, haveConfig = false): SparkOutputsLayout | undefined {
  const sample = join(fixtureDir, 'sample');
  if (!existsSync(sample)) return undefined;
  const names = readdirSync(sample);
  const one = (re: RegExp): string | undefined => {
    const hits = names.filter((n) => re.test(n));
    return hits.length === 1 ? join(sample, hits[0]!) : undefined;
  };
  const input = one(/^input-.*\.csv$/);
  const expected = one(/^expected-.*\.csv$/);
  const schema = one(/^schema-.*\.json$/);
  if (!input || !expected) return undefined;
  if (schema) return { input, expected, schema };
  return haveConfig ? { input, expected } : undefined;
}

/** The column Spark predicted: the expected CSV's first column that is not a probability. */
export function targetColumn(expected: CsvTable): string {
  const target = expected.header.find((h) => !h.startsWith('probability('));
  if (!target) throw new Error('the expected CSV has no prediction column');
  return target;
}

const SPARK_TYPES: Record<string, string> = {
  string: 'STRING',
  double: 'DOUBLE',
  float: 'FLOAT',
  integer: 'INTEGER',
  long: 'LONG',
  boolean: 'BOOLEAN',
};

/**
 * config.json for a fixture with Spark's outputs: every input column but the target, typed
 * from the Spark schema (nullable where the sample has empty cells), and output_labels from
 * the StringIndexerModel that indexed the target during training, if the pipeline kept it.
 */
export async function deriveConfig(fixtureDir: string, layout: SparkOutputsLayout): Promise<PackageConfig> {
  if (!layout.schema) throw new Error(`${layout.input}: no sample/schema-*.json to derive config.json from; give the fixture a config in fixtures.ts`);
  const schema = JSON.parse(readFileSync(layout.schema, 'utf8')) as { fields: { name: string; type: string }[] };
  const target = targetColumn(readCsv(layout.expected));
  const input = readCsv(layout.input);
  const inputSchema: Record<string, string> = {};
  for (const field of schema.fields) {
    const col = input.header.indexOf(field.name);
    if (field.name === target || col < 0) continue;
    const type = SPARK_TYPES[field.type];
    if (!type) throw new Error(`${layout.schema}: no input type for Spark type ${field.type}`);
    inputSchema[field.name] = input.rows.some((r) => (r[col] ?? '') === '') ? `${type}?` : type;
  }
  const labels = await labelIndexerLabels(fixtureDir, target);
  return { input_schema: inputSchema, ...(labels ? { output_labels: Object.fromEntries(labels.map((l, i) => [String(i), l])) } : {}) };
}

/** Labels of the StringIndexerModel (anywhere in the saved object) whose input is `column`. */
export async function labelIndexerLabels(dir: string, column: string): Promise<string[] | undefined> {
  const metadata = await readMetadata(dir);
  if (metadata.class.endsWith('.PipelineModel')) {
    const uids = (metadata.paramMap?.stageUids ?? []) as string[];
    for (const [i, uid] of uids.entries()) {
      const padded = join(dir, 'stages', stageDirName(i, uids.length, uid));
      const found = await labelIndexerLabels(existsSync(padded) ? padded : join(dir, 'stages', `${i}_${uid}`), column);
      if (found) return found;
    }
    return undefined;
  }
  if (metadata.class !== 'org.apache.spark.ml.feature.StringIndexerModel' || metadata.paramMap?.inputCol !== column) return undefined;
  const [row] = await readParquetRows(dir);
  const labels = (row?.labelsArray as string[][] | undefined)?.[0] ?? (row?.labels as string[] | undefined);
  return labels ? [...labels] : undefined;
}

/** A CSV cell as the input type wants it: numbers parsed, an empty cell null. */
export function cellValue(cell: string | undefined, type: string): unknown {
  if (type === 'STRING') return cell ?? null;
  if (cell === undefined || cell === '') return null;
  if (type === 'BOOLEAN') return cell.toLowerCase() === 'true';
  // A vector cell is a JSON array, as the catalogue's samples write them.
  if (type === 'VECTOR') return JSON.parse(cell) as number[];
  return Number(cell);
}

export interface SampleRows {
  readonly records: Record<string, unknown>[];
  /** The true label of each record, already mapped to the label text, when the sample has one. */
  readonly labels?: (string | undefined)[];
}

/** Reads a sample CSV into records of the package's input schema. */
export function sampleRecords(fixturesDir: string, sample: SampleSpec, config: PackageConfig): SampleRows {
  const table = readCsv(join(fixturesDir, sample.file), sample);
  const types = new Map(parseInputSchema(config.input_schema).map((f) => [f.name, f.type as string]));
  const index = (csvCol: string): number => {
    const k = table.header.indexOf(csvCol);
    if (k < 0) throw new Error(`${sample.file} has no column "${csvCol}" (has ${table.header.join(', ')})`);
    return k;
  };
  const inputs = Object.entries(sample.columns).map(([input, csvCol]) => ({ input, k: index(csvCol), type: types.get(input) ?? 'STRING' }));
  const labelAt = sample.label === undefined ? -1 : index(sample.label);
  const rows = sample.dropEmpty ? table.rows.filter((r) => inputs.some(({ k }) => (r[k] ?? '') !== '')) : table.rows;
  const records = rows.map((r) => Object.fromEntries(inputs.map(({ input, k, type }) => [input, cellValue(r[k], type)])));
  if (labelAt < 0) return { records };
  const labels = rows.map((r) => {
    const cell = r[labelAt];
    if (cell === undefined || cell === '') return undefined;
    return sample.rawLabels ? (config.output_labels?.[String(Number(cell))] ?? cell) : cell;
  });
  return { records, labels };
}
