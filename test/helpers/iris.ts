import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, readSparkCsv } from './fixtures.js';

/** A real PySpark 3.3 export: StringIndexer (skipped, its column is absent) → VectorAssembler → NaiveBayes. */
export const IRIS_FIXTURE = 'jpmml33-iris-nb';
export const IRIS_PACKAGE = 'iris';
export const IRIS_FIELDS = ['Sepal_Length', 'Sepal_Width', 'Petal_Length', 'Petal_Width'] as const;

/** Copies the fixture into `<modelsDir>/iris` with its config.json. */
export function installIrisPackage(modelsDir: string): void {
  const dir = join(modelsDir, IRIS_PACKAGE);
  cpSync(fixture(IRIS_FIXTURE), dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      input_schema: Object.fromEntries(IRIS_FIELDS.map((f) => [f, 'DOUBLE'])),
      output_labels: { '0': 'setosa', '1': 'versicolor', '2': 'virginica' },
    }),
  );
}

export interface IrisRecord {
  readonly id: string;
  readonly input: Record<string, number | string>;
  /** Spark's own prediction for this row (the fixture's expected CSV). */
  readonly expectedLabel: string;
}

/** `n` records cycling through the 150 sample rows, ids r0…r(n-1). */
export function irisRecords(n: number): IrisRecord[] {
  const { header, rows } = readSparkCsv(join(fixture(IRIS_FIXTURE), 'sample/input-Iris.csv'));
  const expected = readSparkCsv(join(fixture(IRIS_FIXTURE), 'sample/expected-NaiveBayesIris.csv')).rows.map((r) => r[0]!);
  const cols = IRIS_FIELDS.map((f) => header.indexOf(f));
  return Array.from({ length: n }, (_, i) => {
    const row = rows[i % rows.length]!;
    const id = `r${i}`;
    const input: Record<string, number | string> = { id };
    IRIS_FIELDS.forEach((f, k) => (input[f] = Number(row[cols[k]!])));
    return { id, input, expectedLabel: expected[i % rows.length]! };
  });
}

export function toKafkaMessages(records: readonly IrisRecord[]): Array<{ key: string; value: string }> {
  return records.map((r) => ({ key: r.id, value: JSON.stringify(r.input) }));
}
