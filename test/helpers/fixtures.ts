import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `../shared/fixtures/spark` beside the clone; absent in a user's clone. */
export const sparkFixturesDir = resolve(process.env.MLSTREAM_SPARK_FIXTURES ?? join(repoRoot, '../shared/fixtures/spark'));

export const haveSparkFixtures = existsSync(sparkFixturesDir);

/**
 * `../shared/fixtures/spark-catalogue`: real exports whose classes were added in issue 17,
 * kept beside `spark/` (its README); a folder whose classes are not all built in is pending.
 */
export const sparkCatalogueDir = resolve(process.env.MLSTREAM_SPARK_CATALOGUE ?? join(sparkFixturesDir, '../spark-catalogue'));

/** Pass as the `skip` option of a node:test test: a reason string when fixtures are absent. */
export const skipWithoutFixtures: string | false = haveSparkFixtures
  ? false
  : `Spark fixtures not found at ${sparkFixturesDir} (they live in ../shared/ beside the repo; set MLSTREAM_SPARK_FIXTURES to point elsewhere)`;

/** A fixture folder by name, from `spark/` or else `spark-catalogue/`. */
export function fixture(name: string): string {
  const inSpark = join(sparkFixturesDir, name);
  if (existsSync(inSpark)) return inSpark;
  const inCatalogue = join(sparkCatalogueDir, name);
  return existsSync(inCatalogue) ? inCatalogue : inSpark;
}

/**
 * Reads a CSV the way Spark's CSV reader does by default: one record per line, a quoted
 * field may hold commas and doubled quotes, a `"` inside an unquoted field is literal.
 */
export function readSparkCsv(file: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const [head, ...body] = lines.map(splitCsvLine);
  return { header: head ?? [], rows: body };
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let j = i + 1;
      let field = '';
      while (j < line.length) {
        if (line[j] === '"' && line[j + 1] === '"') {
          field += '"';
          j += 2;
        } else if (line[j] === '"') {
          j++;
          break;
        } else field += line[j++];
      }
      out.push(field);
      i = line.indexOf(',', j);
      if (i < 0) break;
      i++;
    } else {
      const next = line.indexOf(',', i);
      if (next < 0) {
        out.push(line.slice(i));
        break;
      }
      out.push(line.slice(i, next));
      i = next + 1;
    }
  }
  return out;
}
