import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { skipWithoutFixtures, sparkFixturesDir as sparkFixtures } from '../helpers/fixtures.js';
import { mlstream } from '../helpers/cli.js';
import { IRIS_CONFIG, tempDir, writeFixturePackage } from '../helpers/packages.js';

const skip = skipWithoutFixtures;
const work = tempDir('mlstream-validate-');
after(() => rmSync(work, { recursive: true, force: true }));

function iris(name: string): string {
  return writeFixturePackage(join(work, name), 'jpmml33-iris-nb', IRIS_CONFIG);
}

function refused(dir: string, ...patterns: RegExp[]): void {
  const r = mlstream(['validate', dir]);
  assert.equal(r.code, 1, `exit code for ${dir}: ${r.out}${r.err}`);
  assert.match(r.err, /^REFUSED /);
  for (const p of patterns) assert.match(r.err, p);
}

test('a good package: exit 0 and a report of inputs, stages (with the skipped label indexer) and outputs', { skip }, () => {
  const r = mlstream(['validate', iris('good')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^OK good \(version [0-9a-f]{12}\)/);
  assert.match(r.out, /Sepal_Length: DOUBLE/);
  assert.match(r.out, /StringIndexerModel .*skipped: its input column is absent/);
  assert.match(r.out, /NaiveBayesModel/);
  const json = JSON.parse(mlstream(['validate', '--json', join(work, 'good')]).out) as { ok: boolean; probability: string };
  assert.equal(json.ok, true);
  assert.equal(json.probability, 'probability');
});

test('an invalid config.json names the file and the rule it breaks', { skip }, () => {
  const dir = iris('bad-config');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { Sepal_Length: 'NUMBER' } }));
  refused(dir, /config\.json/, /input_schema\/Sepal_Length must match pattern/);
});

test('a config.json that is not JSON', { skip }, () => {
  const dir = iris('not-json');
  writeFileSync(join(dir, 'config.json'), '{ nope');
  refused(dir, /config\.json: not valid JSON/);
});

test('a corrupt parquet file is named', { skip }, () => {
  const dir = iris('corrupt-parquet');
  const data = join(dir, 'stages/2_NaiveBayes_3958ea2b5b1f/data');
  const part = readdirSync(data).find((n) => n.endsWith('.parquet'))!;
  writeFileSync(join(data, part), 'garbage');
  refused(dir, new RegExp(`${part}: cannot read parquet`));
});

test('a half-copied package (a stage folder missing) names the folder', { skip }, () => {
  const dir = iris('half-copied');
  rmSync(join(dir, 'stages/2_NaiveBayes_3958ea2b5b1f'), { recursive: true });
  refused(dir, /stages\/2_NaiveBayes_3958ea2b5b1f: stage 2 \(NaiveBayes_3958ea2b5b1f\) has no folder/);
});

test('a misspelt stage class is refused with the nearest known class, not the whole list', { skip }, () => {
  const dir = iris('typo-class');
  writeFileSync(join(dir, 'stages/1_VectorAssembler_cba7b3ba0664/metadata/part-00000'), JSON.stringify({ class: 'org.apache.spark.ml.feature.VectorAsembler', uid: 'VectorAssembler_cba7b3ba0664', paramMap: {} }));
  refused(dir, /unknown stage class org\.apache\.spark\.ml\.feature\.VectorAsembler \(uid VectorAssembler_cba7b3ba0664\); did you mean org\.apache\.spark\.ml\.feature\.VectorAssembler\?$/m);
  assert.doesNotMatch(mlstream(['validate', dir]).err, /NaiveBayesModel|Tokenizer/, 'no list of other classes');
});

test('a class nothing resembles is refused saying so and where the classes are listed', { skip }, () => {
  const dir = iris('unknown-class');
  writeFileSync(join(dir, 'stages/1_VectorAssembler_cba7b3ba0664/metadata/part-00000'), JSON.stringify({ class: 'com.example.MagicAssembler', uid: 'VectorAssembler_cba7b3ba0664', paramMap: {} }));
  refused(dir, /unknown stage class com\.example\.MagicAssembler \(uid VectorAssembler_cba7b3ba0664\); no built-in class is close \(docs\/spark-stages\.md lists them; a plugin can add one\)/);
});

test('validate --init writes config.json from the stages: assembler inputs as DOUBLE, the label indexer left out, its fitted labels as output_labels', { skip }, () => {
  const dir = join(work, 'init-iris');
  cpSync(join(sparkFixtures, 'jpmml24-iris-nb-idx2str'), dir, { recursive: true });
  rmSync(join(dir, 'sample'), { recursive: true });
  const r = mlstream(['validate', '--init', dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^wrote .*config\.json: inputs Sepal_Length: DOUBLE, Sepal_Width: DOUBLE, Petal_Length: DOUBLE, Petal_Width: DOUBLE; 3 labels$/m);
  assert.match(r.out, /^OK init-iris /m, 'the package validates with the written file');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { input_schema: object; output_labels: object };
  assert.deepEqual(config.input_schema, { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' });
  // The same order as the IndexToString stage Spark saved with the model: index i is labels[i].
  assert.deepEqual(config.output_labels, { 0: 'versicolor', 1: 'virginica', 2: 'setosa' });

  const again = mlstream(['validate', '--init', dir]);
  assert.equal(again.code, 2);
  assert.match(again.err, /^mlstream validate: .*config\.json already exists — edit it, or pass --force/);
});

test('validate --init types text stages: a Tokenizer input is STRING', { skip }, () => {
  const dir = join(work, 'init-text');
  cpSync(join(sparkFixtures, 'hydro21-tok-hashingtf-lr'), dir, { recursive: true });
  rmSync(join(dir, 'sample'), { recursive: true, force: true });
  const r = mlstream(['validate', '--init', '--force', dir]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { input_schema: object }).input_schema, { text: 'STRING' });
});

test('a symbolic link leading out of the package is refused', { skip }, () => {
  const dir = iris('symlink');
  mkdirSync(join(dir, 'extra'));
  symlinkSync('/etc/passwd', join(dir, 'extra/passwd'));
  refused(dir, /extra\/passwd: symbolic link leads outside the package/);
});

test('input columns that nothing provides are named', { skip }, () => {
  const dir = iris('missing-input');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE' } }));
  refused(dir, /reads "Petal_Width", which neither the input schema nor an earlier stage provides/);
});

test('a PySpark pipeline with Python-only stages is refused, naming them', { skip }, () => {
  const dir = writeFixturePackage(join(work, 'python'), 'yelp-python-pipeline-custom-stages', { input_schema: { text: 'STRING' } });
  refused(dir, /Python-only stages cannot run natively/, /preprocessing\.text_preprocessing\.TextCleaner/);
});

test('a saved pipeline reading a column no saved stage produces (mdh266) is refused, naming it', { skip }, () => {
  const dir = writeFixturePackage(join(work, 'dangling'), 'mdh266-twitter-ngram-cv-lr', { input_schema: { tokens: 'ARRAY<STRING>' } });
  refused(dir, /"stemmed"/);
});

test('a plugin stage class: refused without the plugin, served with it', () => {
  const dir = join(work, 'keywords');
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  writeFileSync(join(dir, 'metadata/part-00000'), JSON.stringify({ class: 'example.KeywordModel', uid: 'kw_1', paramMap: { inputCol: 'text', keywords: ['free', 'winner'] } }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { text: 'STRING' }, output_labels: { '0': 'ok', '1': 'suspicious' } }));
  refused(dir, /unknown stage class example\.KeywordModel/);
  const r = mlstream(['validate', '--plugin', './playground/plugins/keyword-model.ts', dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /example\.KeywordModel kw_1/);
  const bad = mlstream(['validate', '--plugin', './no/such/plugin.js', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /cannot load plugin "\.\/no\/such\/plugin\.js"/);
});

test('absurd sizes are refused before anything is allocated: a 2^31 numFeatures, a 5 GB parquet file', { skip }, async () => {
  const dir = iris('absurd-features');
  const nb = join(dir, 'stages/2_NaiveBayes_3958ea2b5b1f/metadata/part-00000');
  const meta = JSON.parse(readFileSync(nb, 'utf8')) as { paramMap: Record<string, unknown> };
  writeFileSync(nb, JSON.stringify({ ...meta, numFeatures: 2 ** 31 }));
  refused(dir, /numFeatures is 2147483648: a size must be an integer from 0 to 2147483647/);

  const huge = iris('absurd-parquet');
  const data = join(huge, 'stages/2_NaiveBayes_3958ea2b5b1f/data');
  const part = readdirSync(data).find((n) => n.endsWith('.parquet'))!;
  // A sparse file: 5 GB long, no disk used.
  const { truncateSync } = await import('node:fs');
  truncateSync(join(data, part), 5 * 1024 ** 3);
  refused(huge, /more than 2147483648 bytes in all|over the \d+ limit/);
});
