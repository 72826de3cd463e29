import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { readParquetRows, stageDirName } from '../../runtime/packages/spark-format.js';
import { fixture } from '../helpers/fixtures.js';
import type { FixtureSpec } from './types.js';

/**
 * Edge cases of Spark's saved format that no fixture folder has (fixtures README, 2d),
 * built by rewriting a copy of a real fixture the way Spark itself would have saved it.
 * Each must give the same outputs as the fixture it came from (and so Spark's).
 */

type Json = Record<string, unknown>;

/** Fixture files are read-only; their copies must be writable before they are rewritten. */
export function makeWritable(path: string): void {
  const info = statSync(path);
  chmodSync(path, info.mode | 0o200 | (info.isDirectory() ? 0o100 : 0));
  if (info.isDirectory()) for (const name of readdirSync(path)) makeWritable(join(path, name));
}

function readMeta(dir: string): Json {
  const metaDir = join(dir, 'metadata');
  const part = readdirSync(metaDir).filter((n) => n.startsWith('part-')).sort()[0]!;
  return JSON.parse(readFileSync(join(metaDir, part), 'utf8').split('\n')[0]!) as Json;
}

/** Writes metadata the way Spark does: the part file, `_SUCCESS`, and Hadoop's checksum side files. */
function writeMeta(dir: string, meta: Json, partName = 'part-00000'): void {
  const metaDir = join(dir, 'metadata');
  rmSync(metaDir, { recursive: true, force: true });
  mkdirSync(metaDir, { recursive: true });
  writeFileSync(join(metaDir, partName), `${JSON.stringify(meta)}\n`);
  writeFileSync(join(metaDir, '_SUCCESS'), '');
  writeFileSync(join(metaDir, `.${partName}.crc`), 'crc');
}

function stageUids(meta: Json): string[] {
  return (meta.paramMap as { stageUids: string[] }).stageUids;
}

/** Spark 4.x names the metadata part file `part-00000-<uuid>-c000.txt`, in every saved object. */
function spark4MetadataNames(dir: string): void {
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name === 'metadata') writeMeta(d, readMeta(d), `part-00000-${randomUUID()}-c000.txt`);
      else walk(join(d, entry.name));
    }
  };
  makeWritable(dir);
  walk(dir);
}

/**
 * Grows the 9-stage sentiment pipeline to 11 stages, so Spark pads stage folders to two
 * digits (`00_…` to `10_…`): a second label indexer (absent column, skipped like the first)
 * and a VectorSizeHint on the assembled vector (handleInvalid=error: a real size check).
 */
async function elevenPaddedStages(dir: string): Promise<void> {
  makeWritable(dir);
  const root = readMeta(dir);
  const old = stageUids(root);
  const oldDir = (i: number): string => join(dir, 'stages', `${i}_${old[i]}`);
  const metas = old.map((_, i) => readMeta(oldDir(i)));
  const assembler = metas.findIndex((m) => m.class === 'org.apache.spark.ml.feature.VectorAssembler');
  let size = 0;
  for (const [i, m] of metas.entries()) {
    if (m.class === 'org.apache.spark.ml.feature.CountVectorizerModel') size += ((await readParquetRows(oldDir(i)))[0]!.vocabulary as string[]).length;
  }
  const sparkVersion = root.sparkVersion;
  const indexerCopy = 'StringIndexer_0c0c0c0c0c0c';
  const sizeHint = 'VectorSizeHint_5e5e5e5e5e5e';
  const uids = [...old];
  uids.splice(assembler + 1, 0, sizeHint);
  uids.splice(1, 0, indexerCopy);

  const staging = join(dir, 'stages.new');
  mkdirSync(staging);
  const target = (uid: string): string => join(staging, stageDirName(uids.indexOf(uid), uids.length, uid));
  old.forEach((uid, i) => renameSync(oldDir(i), target(uid)));
  cpSync(target(old[0]!), target(indexerCopy), { recursive: true });
  const first = metas[0]!;
  writeMeta(target(indexerCopy), { ...first, uid: indexerCopy, paramMap: { ...(first.paramMap as Json), outputCol: 'scoreIndexCopy' } });
  const vectorCol = (metas[assembler]!.paramMap as Json).outputCol;
  writeMeta(target(sizeHint), {
    class: 'org.apache.spark.ml.feature.VectorSizeHint',
    timestamp: root.timestamp,
    sparkVersion,
    uid: sizeHint,
    paramMap: { inputCol: vectorCol, size },
    defaultParamMap: { handleInvalid: 'error' },
  });
  rmSync(join(dir, 'stages'), { recursive: true });
  renameSync(staging, join(dir, 'stages'));
  writeMeta(dir, { ...root, paramMap: { stageUids: uids } });
}

/** Wraps every stage but the model in an inner PipelineModel, itself stage 0 of the outer one. */
function nestedPipeline(dir: string): void {
  makeWritable(dir);
  const root = readMeta(dir);
  const old = stageUids(root);
  const inner = 'PipelineModel_1e5ed0000001';
  const innerDir = join(dir, 'stages', stageDirName(0, 2, inner));
  mkdirSync(join(innerDir, 'stages'), { recursive: true });
  const innerUids = old.slice(0, -1);
  innerUids.forEach((uid, i) => renameSync(join(dir, 'stages', `${i}_${uid}`), join(innerDir, 'stages', stageDirName(i, innerUids.length, uid))));
  const model = old[old.length - 1]!;
  renameSync(join(dir, 'stages', `${old.length - 1}_${model}`), join(dir, 'stages', stageDirName(1, 2, model)));
  writeMeta(innerDir, { ...root, uid: inner, paramMap: { stageUids: innerUids }, defaultParamMap: {} });
  writeMeta(dir, { ...root, paramMap: { stageUids: [inner, model] } });
}

const TVS_STAGE = (root: Json): string => `0_${stageUids(root)[0]}`;

/**
 * The TrainValidationSplitModel saved as Spark's CrossValidatorModel writer would have saved
 * the same bestModel: its class, `numFolds` and `foldCol` params, `avgMetrics` in place of
 * `validationMetrics`; `bestModel/`, `estimator/` and `evaluator/` as they are.
 */
function crossValidatorModel(dir: string): void {
  makeWritable(dir);
  const tvsDir = join(dir, 'stages', TVS_STAGE(readMeta(dir)));
  const { validationMetrics, paramMap, ...tvs } = readMeta(tvsDir);
  const { trainRatio: _ratio, ...params } = paramMap as Json;
  const uid = String(tvs.uid).replace('TrainValidationSplitModel', 'CrossValidatorModel');
  writeMeta(tvsDir, { ...tvs, class: 'org.apache.spark.ml.tuning.CrossValidatorModel', uid, paramMap: { ...params, numFolds: 3, foldCol: '' }, avgMetrics: validationMetrics });
}

/** The TrainValidationSplitModel saved on its own: its folder is the package's root. */
function tuningModelAtRoot(dir: string): void {
  makeWritable(dir);
  const stage = TVS_STAGE(readMeta(dir));
  rmSync(join(dir, 'metadata'), { recursive: true });
  renameSync(join(dir, 'stages'), join(dir, '.stages'));
  for (const name of readdirSync(join(dir, '.stages', stage))) renameSync(join(dir, '.stages', stage, name), join(dir, name));
  rmSync(join(dir, '.stages'), { recursive: true });
}

/**
 * Saves separately saved objects (a preprocessing PipelineModel, then a lone model) as the
 * stages of one PipelineModel, the layout Spark writes for `new PipelineModel(uid, stages)`.
 */
export function writeCombinedPackage(dir: string, fixtures: readonly string[], config: object): string {
  const metas = fixtures.map((name) => readMeta(fixture(name)));
  const uids = metas.map((m) => String(m.uid));
  mkdirSync(join(dir, 'stages'), { recursive: true });
  fixtures.forEach((name, i) => {
    cpSync(fixture(name), join(dir, 'stages', stageDirName(i, fixtures.length, uids[i]!)), { recursive: true, filter: (src) => !src.includes('/sample') });
  });
  const last = metas[metas.length - 1]!;
  const root = { class: 'org.apache.spark.ml.PipelineModel', timestamp: last.timestamp, sparkVersion: last.sparkVersion, uid: 'PipelineModel_c0b1ed000001' };
  writeMeta(dir, { ...root, paramMap: { stageUids: uids }, defaultParamMap: {} });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

export const edgeCaseVariants: readonly FixtureSpec[] = [
  {
    name: 'jpmml33-housing-imputer-linreg, 4.x metadata names',
    variant: { base: 'jpmml33-housing-imputer-linreg', what: 'every metadata file renamed `part-00000-<uuid>-c000.txt` (Spark 4.x)', build: spark4MetadataNames },
  },
  {
    name: 'jpmml33-sentiment-lsvc, 11 stages, padded',
    variant: { base: 'jpmml33-sentiment-lsvc', what: '11 stages in folders `00_…` to `10_…` (a copied label indexer and a VectorSizeHint added)', build: elevenPaddedStages },
  },
  {
    name: 'jpmml33-iris-nb, nested pipeline',
    variant: { base: 'jpmml33-iris-nb', what: 'StringIndexer and VectorAssembler moved into a nested PipelineModel stage', build: nestedPipeline },
  },
  {
    name: 'jpmml40-audit-tvs-dt, as CrossValidatorModel',
    variant: { base: 'jpmml40-audit-tvs-dt', what: 'the TrainValidationSplitModel stage saved as a CrossValidatorModel of the same bestModel', build: crossValidatorModel },
  },
  {
    name: 'jpmml40-audit-tvs-dt, tuning model at the root',
    variant: { base: 'jpmml40-audit-tvs-dt', what: 'the TrainValidationSplitModel saved alone: its folder is the package', build: tuningModelAtRoot },
  },
];
