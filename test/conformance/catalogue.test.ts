// The issue 17 catalogue (test/conformance/catalogue/*.ts) and the coverage table beside
// MLeap and JPMML-SparkML: both generated into the docs by `npm run conformance`.
//   node --import tsx --test test/conformance/catalogue.test.ts
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { haveSparkFixtures, repoRoot, skipWithoutFixtures } from '../helpers/fixtures.js';
import { loadCatalogue, renderCatalogue } from './catalogue.js';
import { COVERAGE, renderCoverage } from './coverage.js';
import { sectionContent } from './report.js';
import { fixtureFolders, sparkRegistry } from './runner.js';

const ML = 'org.apache.spark.ml.';
const registry = sparkRegistry();

describe('catalogue of the classes issue 17 adds', () => {
  test('every entry names a built-in stage class, once', async () => {
    const entries = await loadCatalogue();
    assert.ok(entries.length > 0);
    for (const e of entries) assert.ok(registry.has(e.className), `${e.className} (${e.part}.ts) is not registered`);
    assert.equal(new Set(entries.map((e) => e.className)).size, entries.length, 'a class is listed twice');
  });

  test('a documented-example entry names the test file that checks it, and that file exists', async () => {
    for (const e of (await loadCatalogue()).filter((x) => x.checkedAgainst === 'documented-example')) {
      const files = e.evidence.match(/test\/[\w/.-]+\.test\.ts/g) ?? [];
      assert.ok(files.length > 0, `${e.className}: no test file in "${e.evidence}"`);
      for (const f of files) assert.ok(existsSync(join(repoRoot, f)), `${e.className}: ${f} does not exist`);
    }
  });

  test('a spark-outputs entry starts with the fixture folder holding those outputs (spark/ or spark-catalogue/ before it allowed)', { skip: skipWithoutFixtures }, async () => {
    const folders = haveSparkFixtures ? fixtureFolders() : [];
    for (const e of (await loadCatalogue()).filter((x) => x.checkedAgainst === 'spark-outputs')) {
      const evidence = e.evidence.replace(/^(spark|spark-catalogue)\//, '');
      assert.ok(folders.some((f) => evidence.startsWith(f)), `${e.className}: "${e.evidence}" does not start with a fixture folder`);
    }
  });

  test('every class part 17a adds to the coverage table is registered and has a catalogue entry', async () => {
    const listed = new Set((await loadCatalogue()).map((e) => e.className));
    for (const r of COVERAGE.filter((x) => x.part === '17a')) {
      assert.ok(registry.has(ML + r.spark), `${r.spark} is not registered`);
      assert.ok(listed.has(ML + r.spark), `${r.spark} has no catalogue entry`);
    }
  });

  test('docs/spark-stages.md lists the catalogue as npm run conformance writes it', async () => {
    const docs = readFileSync(join(repoRoot, 'docs/spark-stages.md'), 'utf8');
    assert.equal(sectionContent(docs, 'catalogue'), renderCatalogue(await loadCatalogue()), 'run `npm run conformance` to regenerate it');
  });
});

describe('coverage beside MLeap and JPMML-SparkML', () => {
  test('every row-wise class MLeap or JPMML-SparkML serves is built in here, or is added by a named part of issue 17', () => {
    const missing = COVERAGE.filter((r) => (r.mleap || r.jpmml) && !registry.has(ML + r.spark) && !r.part).map((r) => r.spark);
    assert.deepEqual(missing, []);
  });

  test('a class marked as already served is registered', () => {
    const claimed = COVERAGE.filter((r) => !r.part && !registry.has(ML + r.spark)).map((r) => r.spark);
    assert.deepEqual(claimed, []);
  });

  test('the README table is the one npm run conformance writes from the registry', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    assert.equal(sectionContent(readme, 'coverage'), renderCoverage(new Set(registry.known())), 'run `npm run conformance` to regenerate it');
  });
});
