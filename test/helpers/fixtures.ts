import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `../shared/fixtures/spark` beside the clone; absent in a user's clone. */
export const sparkFixturesDir = resolve(process.env.MLSTREAM_SPARK_FIXTURES ?? join(repoRoot, '../shared/fixtures/spark'));

export const haveSparkFixtures = existsSync(sparkFixturesDir);

/** Pass as the `skip` option of a node:test test: a reason string when fixtures are absent. */
export const skipWithoutFixtures: string | false = haveSparkFixtures
  ? false
  : `Spark fixtures not found at ${sparkFixturesDir} (they live in ../shared/ beside the repo; set MLSTREAM_SPARK_FIXTURES to point elsewhere)`;

export function fixture(name: string): string {
  return join(sparkFixturesDir, name);
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
