/**
 * `npm run conformance`: runs every Spark fixture (and the format edge cases built from
 * them) through the runtime exactly as test/conformance/spark-fixtures.test.ts does, prints
 * the markdown table, and rewrites README.md's list of supported Spark stage classes and its
 * coverage table beside MLeap and JPMML-SparkML, docs/spark-stages-current.md's "Spark
 * conformance" table, and the catalogue of classes with their evidence in
 * docs/spark-stages.md. Exits 1 when any fixture disagrees with Spark or its spec.
 *
 *   npm run conformance              print and rewrite README.md
 *   npm run conformance -- --print   print only
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haveSparkFixtures, repoRoot, sparkFixturesDir } from '../test/helpers/fixtures.js';
import { allSpecs } from '../test/conformance/fixtures.js';
import { loadCatalogue, renderCatalogue } from '../test/conformance/catalogue.js';
import { renderCoverage } from '../test/conformance/coverage.js';
import { renderStageList, renderTable, replaceSection, type SECTIONS } from '../test/conformance/report.js';
import { runFixture, sparkRegistry } from '../test/conformance/runner.js';
import type { FixtureResult } from '../test/conformance/types.js';

const printOnly = process.argv.includes('--print');
const readmePath = join(repoRoot, 'README.md');
const docsPath = join(repoRoot, 'docs/spark-stages.md');
const conformancePath = join(repoRoot, 'docs/spark-stages-current.md');
let failed = false;
const known = sparkRegistry().known();
const sections: { section: keyof typeof SECTIONS; content: string }[] = [
  { section: 'stages', content: renderStageList(known) },
  { section: 'coverage', content: renderCoverage(new Set(known)) },
];
const catalogue = renderCatalogue(await loadCatalogue());
console.log(`${catalogue}\n`);

if (!haveSparkFixtures) {
  console.error(`Spark fixtures not found at ${sparkFixturesDir} (set MLSTREAM_SPARK_FIXTURES); the conformance table is left as it is.`);
  failed = true;
} else {
  const registry = sparkRegistry();
  const results: FixtureResult[] = [];
  for (const spec of allSpecs()) {
    const started = performance.now();
    let result: FixtureResult;
    try {
      result = await runFixture(spec, registry);
    } catch (e) {
      const problems = [`threw: ${(e as Error).message}`];
      result = { name: spec.name, mode: 'loaded', sparkVersion: '?', stages: 0, activeStages: 0, rows: 0, rejected: {}, outputs: [], problems };
    }
    results.push(result);
    const status = result.problems.length ? `FAIL ${result.problems.join(' | ')}` : 'ok';
    console.error(`${spec.name}: ${status} (${Math.round(performance.now() - started)} ms)`);
    if (result.problems.length) failed = true;
  }
  const table = renderTable(results);
  console.log(table);
  const source = 'Produced by `npm run conformance` (scripts/conformance.ts), which runs the same table and runner as test/conformance/spark-fixtures.test.ts.';
  sections.push({ section: 'conformance', content: `${table}\n\n${source}` });
}

/** Rewrites the sections between their markers; files are read just before writing, as they may have been edited while the fixtures ran. */
function rewrite(path: string, name: string, parts: readonly { section: keyof typeof SECTIONS; content: string }[]): void {
  const before = readFileSync(path, 'utf8');
  let after = before;
  for (const { section, content } of parts) {
    const { text, found } = replaceSection(after, section, content);
    if (!found) console.error(`${name} has no ${section} markers; that section is not written.`);
    after = text;
  }
  if (after !== before) writeFileSync(path, after);
}

if (!printOnly) {
  rewrite(readmePath, 'README.md', sections.filter((s) => s.section !== 'conformance'));
  rewrite(conformancePath, 'docs/spark-stages-current.md', sections.filter((s) => s.section === 'conformance'));
  rewrite(docsPath, 'docs/spark-stages.md', [{ section: 'catalogue', content: catalogue }]);
}
process.exitCode = failed ? 1 : 0;
