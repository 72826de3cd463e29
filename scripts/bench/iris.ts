import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { recordId } from './corpus.js';

/**
 * The tabular row's package and input: a decision tree saved by real Spark (PySpark 3.3:
 * StringIndexer on the absent label → VectorAssembler → StandardScaler → DecisionTree) from
 * the Spark fixtures beside the clone, fed the 150 rows of its own sample, cycled, as
 * records of four doubles. The fixtures are not in the repository (their licences differ),
 * so without them this row reports that it could not run.
 */
export const IRIS_FIXTURE = 'jpmml33-iris-scaler-dt';
export const IRIS_PACKAGE = 'iris-tree';
const FIELDS = ['Sepal_Length', 'Sepal_Width', 'Petal_Length', 'Petal_Width'] as const;

export function irisFixtureDir(root: string): string {
  return join(resolve(process.env.MLSTREAM_SPARK_FIXTURES ?? join(root, '../shared/fixtures/spark')), IRIS_FIXTURE);
}

/** Copies the fixture into `<modelsDir>/iris-tree` with a config.json; throws when the fixture is absent. */
export function installIrisTree(root: string, modelsDir: string): void {
  const source = irisFixtureDir(root);
  if (!existsSync(source)) throw new Error(`the iris fixture is absent (${source}); set MLSTREAM_SPARK_FIXTURES`);
  const dir = join(modelsDir, IRIS_PACKAGE);
  cpSync(source, dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: Object.fromEntries(FIELDS.map((f) => [f, 'DOUBLE'])), output_labels: {} }));
}

/** The i-th iris record as Kafka sends it (ids as the text records have them). */
export function irisMessages(root: string): (i: number) => { key: string; value: Buffer } {
  const [head, ...rows] = readFileSync(join(irisFixtureDir(root), 'sample/input-Iris.csv'), 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
  const cols = FIELDS.map((f) => head!.indexOf(f));
  return (i) => {
    const row = rows[i % rows.length]!;
    const id = recordId(i);
    const record: Record<string, string | number> = { id };
    FIELDS.forEach((f, k) => (record[f] = Number(row[cols[k]!])));
    return { key: id, value: Buffer.from(JSON.stringify(record)) };
  };
}
