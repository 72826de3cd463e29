/**
 * The catalogue of Spark classes added in issue 17 and what checks each one's numbers: every
 * file of test/conformance/catalogue/ but entry.ts exports `entries`, one per class (one file
 * per part of the issue, so parts land without touching each other's file). The folder is
 * listed, not a fixed set of imports, so each part's file is picked up once it lands.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/fixtures.js';
import type { CatalogueEntry } from './catalogue/entry.js';

export const catalogueDir = join(repoRoot, 'test/conformance/catalogue');

export interface ListedEntry extends CatalogueEntry {
  /** The catalogue file the entry comes from, without `.ts` (wrappers, features, models). */
  readonly part: string;
}

export async function loadCatalogue(): Promise<ListedEntry[]> {
  const files = readdirSync(catalogueDir)
    .filter((f) => f.endsWith('.ts') && f !== 'entry.ts')
    .sort();
  const listed: ListedEntry[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(catalogueDir, file)).href)) as { entries?: CatalogueEntry[] };
    if (!Array.isArray(mod.entries)) throw new Error(`test/conformance/catalogue/${file} exports no entries list`);
    for (const e of mod.entries) listed.push({ ...e, part: basename(file, '.ts') });
  }
  return listed.sort((a, b) => a.className.localeCompare(b.className));
}

const CHECKED: Record<CatalogueEntry['checkedAgainst'], string> = {
  'spark-outputs': "a real export's Spark outputs",
  'documented-example': "Spark's documented example only",
};

/** The catalogue as a markdown table: class, what its numbers were checked against, the evidence. */
export function renderCatalogue(entries: readonly ListedEntry[]): string {
  const lines = ['| class | checked against | evidence | catalogue file |', '|---|---|---|---|'];
  for (const e of entries) {
    const short = e.className.replace('org.apache.spark.ml.', '');
    lines.push(`| \`${short}\` | ${CHECKED[e.checkedAgainst]} | ${e.evidence.replaceAll('|', '\\|')} | ${e.part}.ts |`);
  }
  return lines.join('\n');
}
