import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadPackage } from '../../runtime/packages/package.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { haveSparkFixtures, repoRoot, skipWithoutFixtures } from '../helpers/fixtures.js';
import { tempDir, writeFixturePackage } from '../helpers/packages.js';
import { FIXTURES, specFor } from './fixtures.js';
import { parseStageList, sectionContent } from './report.js';
import { fixtureFolders, predict, runFixture, sparkRegistry } from './runner.js';
import { TOLERANCE } from './compare.js';
import { isRejection, type FixtureResult, type FixtureSpec, type Outcome } from './types.js';
import { edgeCaseVariants } from './variants.js';
import { isCatalogueFolder } from './pending.js';

/** Results by name, so cross-checks reuse a fixture's run (or run it when filtered alone). */
const runs = new Map<string, Promise<FixtureResult>>();
const registry = sparkRegistry();
function run(spec: FixtureSpec): Promise<FixtureResult> {
  let p = runs.get(spec.name);
  if (!p) runs.set(spec.name, (p = runFixture(spec, registry)));
  return p;
}

function summary(r: FixtureResult): string {
  const parts = [`${r.mode}, Spark ${r.sparkVersion}, ${r.stages} stages (${r.activeStages} active), ${r.rows} rows`];
  if (r.matches !== undefined) parts.push(`${r.matches}/${r.rows} match Spark`);
  if (r.maxProbabilityError !== undefined) parts.push(`max probability error ${r.maxProbabilityError}`);
  if (r.maxValueError !== undefined) parts.push(`max value error ${r.maxValueError}`);
  if (r.accuracy) parts.push(`accuracy ${(r.accuracy.correct / r.accuracy.total).toFixed(4)} (${r.accuracy.correct}/${r.accuracy.total})`);
  if (r.message) parts.push(r.message);
  return parts.join('; ');
}

describe('Spark conformance: every folder of the shared fixtures', { skip: skipWithoutFixtures }, () => {
  for (const folder of haveSparkFixtures ? fixtureFolders() : []) {
    const spec = specFor(folder);
    test(folder, async (t) => {
      const r = await run(spec);
      t.diagnostic(summary(r));
      assert.deepEqual(r.problems, [], `${folder}:\n${r.problems.join('\n')}`);
      switch (r.mode) {
        case 'spark-outputs':
          assert.ok(r.rows > 0);
          assert.equal(r.matches, r.rows, 'every row equals what Spark wrote');
          if (r.maxProbabilityError !== undefined) assert.ok(r.maxProbabilityError <= TOLERANCE);
          if (r.maxValueError !== undefined) assert.ok(r.maxValueError <= TOLERANCE);
          break;
        case 'sample':
        case 'synthetic': {
          assert.ok(r.rows > 0);
          const predicted = (r.outputs as Outcome[]).filter((o) => o !== undefined && !isRejection(o)).length;
          assert.equal(predicted, r.rows - (spec.skippedRows ?? 0), 'every row predicts, but those handleInvalid=skip drops');
          if (r.sparkRows !== undefined) assert.equal(r.matches, r.sparkRows, 'rows whose Spark output is known equal it');
          break;
        }
        case 'transformer':
          assert.equal(r.outputs.length, r.rows);
          if (r.sparkRows !== undefined) assert.equal(r.matches, r.sparkRows, 'vectors whose Spark output is known equal it');
          assert.match(r.message ?? '', /served as a package of feature stages/);
          break;
        case 'refused':
          assert.ok(spec.refusal?.test(r.message ?? ''), r.message);
          break;
        case 'loaded':
          t.diagnostic('no entry in test/conformance/fixtures.ts and no Spark outputs: loaded, not run');
          break;
        case 'pending':
          assert.ok(isCatalogueFolder(folder), 'only spark-catalogue/ folders may be pending');
          t.skip(r.message);
          break;
      }
    });
  }

  test('every entry of the table names a fixture folder', () => {
    const folders = new Set(fixtureFolders());
    for (const spec of FIXTURES) assert.ok(folders.has(spec.name), `${spec.name} is in fixtures.ts but not in the fixtures folder`);
  });

  test('both Word2Vec data layouts (2.1 wordIndex/wordVectors, 2.2 word/vector rows) of one model give the same vectors', async () => {
    const [v21, v22] = await Promise.all([run(specFor('hydro21-word2vec')), run(specFor('hydro22-word2vec'))]);
    assert.ok(v21.outputs.length > 0);
    assert.deepEqual(v21.outputs, v22.outputs);
    // A sentence of unseen words averages nothing: Spark gives the zero vector.
    assert.deepEqual(v21.outputs.at(-1), [0, 0, 0]);
  });

  test('the two-part nikola package chains: the min-max pipeline feeds the separately saved decision tree, alone or both as one PipelineModel', async () => {
    const r = await run(specFor('nikola-health-minmax-pipeline'));
    assert.equal(r.outputs.length, 60);
    assert.match(r.message ?? '', /Both saved as one PipelineModel: the same predictions/);
    for (const o of r.outputs as { vector: number[]; chained: { prediction: string; probability: Record<string, number> } }[]) {
      assert.equal(o.vector.length, 21);
      assert.ok(o.vector.every((x) => x >= 0 && x <= 1), 'min-max scaled into [0, 1]');
      assert.ok(['no diabetes', 'prediabetes', 'diabetes'].includes(o.chained.prediction));
      const total = Object.values(o.chained.probability).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-12);
    }
  });

  test('a VECTOR input given dense or as {size, indices, values} predicts the same; a wrong size fails the record alone', async () => {
    const dir = writeFixturePackage(tempDir(), 'hydro21-strindexer-scaler-rf-idx2str', specFor('hydro21-strindexer-scaler-rf-idx2str').config!);
    const model = await loadPackage(dir, registry);
    try {
      const dense = Array.from({ length: 31 }, (_, k) => (k % 3 === 0 ? 0 : k / 7));
      const indices = dense.flatMap((v, k) => (v === 0 ? [] : [k]));
      const [a, b, wrong, c] = await predict(model, [
        { features: dense },
        { features: { size: 31, indices, values: indices.map((k) => dense[k]!) } },
        { features: dense.slice(0, 30) },
        { features: dense },
      ]);
      assert.ok(a && !isRejection(a));
      assert.deepEqual(b, a);
      assert.deepEqual(c, a);
      assert.ok(isRejection(wrong) && wrong.rejected === 'PIPELINE_ERROR', JSON.stringify(wrong));
      assert.match(wrong.message, /size 31, got 30/);
    } finally {
      await model.pipeline.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Spark saved-format edge cases without a folder (fixtures README 2d), built from real fixtures', { skip: skipWithoutFixtures }, () => {
  for (const spec of edgeCaseVariants) {
    test(`${spec.name}: ${spec.variant!.what}`, async (t) => {
      const [variant, original] = await Promise.all([run(spec), run(specFor(spec.variant!.base))]);
      t.diagnostic(summary(variant));
      assert.deepEqual(variant.problems, []);
      assert.equal(variant.matches, variant.rows);
      assert.deepEqual(variant.outputs, original.outputs, 'identical outputs to the original fixture');
    });
  }

  test('the variants have the layout they claim: 11 folders 00_… to 10_…; a PipelineModel as stage 0', { skip: skipWithoutFixtures }, async () => {
    const rootOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'metadata/part-00000'), 'utf8')) as { class: string; paramMap: { stageUids: string[] } };
    const built = async (name: string, inputs: Record<string, string>): Promise<string> => {
      const spec = edgeCaseVariants.find((v) => v.name.includes(name))!;
      const dir = writeFixturePackage(tempDir(), spec.variant!.base, { input_schema: inputs });
      await spec.variant!.build(dir);
      return dir;
    };
    const padded = await built('padded', { Sentence: 'STRING' });
    const nested = await built('nested', { Sepal_Length: 'DOUBLE' });
    try {
      const uids = rootOf(padded).paramMap.stageUids;
      assert.equal(uids.length, 11);
      uids.forEach((uid, i) => assert.ok(existsSync(join(padded, 'stages', `${String(i).padStart(2, '0')}_${uid}`, 'metadata'))));
      const [inner] = rootOf(nested).paramMap.stageUids;
      const innerMeta = rootOf(join(nested, 'stages', `0_${inner}`));
      assert.equal(innerMeta.class, 'org.apache.spark.ml.PipelineModel');
      assert.equal(innerMeta.paramMap.stageUids.length, 2);
    } finally {
      rmSync(padded, { recursive: true, force: true });
      rmSync(nested, { recursive: true, force: true });
    }
  });
});

describe('README and docs/spark-stages-current.md', () => {
  test("README lists exactly the registry's built-in Spark stage classes", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const list = sectionContent(readme, 'stages');
    assert.ok(list, 'README.md has the <!-- spark-stages:start --> / <!-- spark-stages:end --> markers');
    const spark = builtinRegistry()
      .known()
      .filter((c) => c.startsWith('org.apache.spark.'));
    assert.deepEqual(parseStageList(list), spark, 'run `npm run conformance` to regenerate the list');
  });

  test('docs/spark-stages-current.md has the conformance table markers the script rewrites', () => {
    const page = readFileSync(join(repoRoot, 'docs/spark-stages-current.md'), 'utf8');
    assert.ok(sectionContent(page, 'conformance') !== undefined);
  });
});
