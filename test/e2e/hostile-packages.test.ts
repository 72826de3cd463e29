import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { mlstream } from '../helpers/cli.js';
import { IRIS_CONFIG, tempDir, writeFixturePackage } from '../helpers/packages.js';

/**
 * Packages built to attack the loader, refused through `mlstream validate` as a user runs
 * it: paths leaving the package, stage folders that contain themselves, a parquet file
 * whose few kilobytes decode to tens of millions of rows, and files whose contents must
 * not be quoted back.
 */
const skip = skipWithoutFixtures;
const work = tempDir('mlstream-hostile-pkg-');
const packages = join(work, 'models');
after(() => rmSync(work, { recursive: true, force: true }));

const NB_STAGE = 'stages/2_NaiveBayes_3958ea2b5b1f';
const SECRET = 'TOP-SECRET-do-not-echo';

function iris(name: string): string {
  return writeFixturePackage(join(packages, name), 'jpmml33-iris-nb', IRIS_CONFIG);
}

function setStageUids(dir: string, uids: string[]): void {
  const file = join(dir, 'metadata/part-00000');
  const meta = JSON.parse(readFileSync(file, 'utf8')) as { paramMap: { stageUids: string[] } };
  meta.paramMap.stageUids = uids;
  writeFileSync(file, JSON.stringify(meta));
}

function refused(dir: string, ...patterns: RegExp[]): string {
  const r = mlstream(['validate', dir]);
  assert.equal(r.code, 1, `exit code for ${dir}: ${r.out}${r.err}`);
  assert.match(r.err, /^REFUSED /);
  for (const p of patterns) assert.match(r.err, p);
  return r.err;
}

let bomb: ArrayBuffer;
before(() => {
  // 30 million equal INT64 values: dictionary plus run-length encoding keeps the file tiny.
  bomb = parquetWriteBuffer({ columnData: [{ name: 'pi', data: new BigInt64Array(30_000_000), type: 'INT64' }], rowGroupSize: 30_000_000, pageSize: 1 << 30 });
});

test('a stage uid climbing out of the package is refused before anything outside is read, and the outside file is not quoted', { skip }, () => {
  const outside = join(work, 'outside');
  mkdirSync(join(outside, 'metadata'), { recursive: true });
  symlinkSync('/etc/passwd', join(outside, 'metadata/part-00000'));
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  const dir = iris('climb');
  setStageUids(dir, ['x/../../../../outside', 'VectorAssembler_cba7b3ba0664', 'NaiveBayes_3958ea2b5b1f']);
  const err = refused(dir, /climb\/metadata: stage 0's uid "x\/..\/..\/..\/..\/outside" is not a plain name/);
  assert.doesNotMatch(err, /root:|nologin/);
});

test('uids with a backslash, NUL or ".." refuse the package', { skip }, () => {
  for (const [name, uid] of [['backslash', 'a\\b'], ['nul', 'a\u0000b'], ['dots', 'a..b'], ['self', 'x/../..']] as const) {
    const dir = iris(`uid-${name}`);
    setStageUids(dir, ['StringIndexer_1f33fec51e26', uid, 'NaiveBayes_3958ea2b5b1f']);
    refused(dir, /stage 1's uid .* is not a plain name/);
  }
});

test('a stage folder that is a link back to the package itself is refused instead of loading forever', { skip }, () => {
  const dir = iris('loop');
  symlinkSync('..', join(dir, 'stages/3_loop'));
  setStageUids(dir, ['StringIndexer_1f33fec51e26', 'VectorAssembler_cba7b3ba0664', 'NaiveBayes_3958ea2b5b1f', 'loop']);
  refused(dir, /stages\/3_loop: a stage folder leads back to a saved object that contains it \(\.\)/);
});

test('nested PipelineModels deeper than 8 are refused', { skip }, () => {
  const dir = iris('deep');
  let at = dir;
  for (let level = 0; level < 10; level++) {
    const uid = `Nested_${level}`;
    if (level > 0) mkdirSync(join(at, 'metadata'), { recursive: true });
    writeFileSync(join(at, 'metadata/part-00000'), JSON.stringify({ class: 'org.apache.spark.ml.PipelineModel', uid: `P${level}`, paramMap: { stageUids: [uid] } }));
    at = join(at, 'stages', `0_${uid}`);
  }
  refused(dir, /saved objects nested deeper than 8/);
});

test('an 8 KB parquet file claiming 30 million rows is refused from its footer, naming the file', { skip }, () => {
  assert.ok(bomb.byteLength < 10_000, `the bomb is ${bomb.byteLength} bytes`);
  const dir = iris('bomb');
  const data = join(dir, NB_STAGE, 'data');
  const part = readdirSync(data).find((n) => n.endsWith('.parquet'))!;
  writeFileSync(join(data, part), new Uint8Array(bomb));
  refused(dir, new RegExp(`${part}: parquet footer claims 30000000 (rows|values in column pi), over the \\d+ this stage's params allow`));
});

test('files that are not JSON are refused without quoting their contents', { skip }, () => {
  const config = iris('secret-config');
  writeFileSync(join(config, 'config.json'), `${SECRET}: not json`);
  assert.doesNotMatch(refused(config, /config\.json: not valid JSON \(syntax error/), new RegExp(SECRET));
  const meta = iris('secret-metadata');
  writeFileSync(join(meta, NB_STAGE, 'metadata/part-00000'), `${SECRET}\n`);
  assert.doesNotMatch(refused(meta, /part-00000: metadata is not JSON \(syntax error/), new RegExp(SECRET));
});

test('the untouched package still validates', { skip }, () => {
  const r = mlstream(['validate', iris('good')]);
  assert.equal(r.code, 0, r.err);
});
