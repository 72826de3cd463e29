import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes } from '../errors.js';
import type { ErrorBody } from '../engine/messages.js';
import { PackageError } from '../packages/errors.js';
import { readConfig } from '../packages/package.js';
import { loadSparkObject } from '../packages/spark-loader.js';
import { readMetadata, stageDirName } from '../packages/spark-format.js';
import { denseVectorColumn, sparkUid, writeData, writeMetadata, type StageMetadata } from '../packages/spark-writer.js';
import { Ajv } from 'ajv';
import { describeErrors, recordSchema } from '../packages/validator.js';
import { toDense, type Vector } from '../pipeline/frame.js';
import { buildFrame, parseInputSchema, type InputField } from '../pipeline/input-schema.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { StageRegistry } from '../pipeline/registry.js';
import type { Stage } from '../pipeline/stage.js';
import { ENGLISH_STOP_WORDS } from '../stages/spark/text.js';

/**
 * The feature half of a trained package: Spark feature stages, written once in Spark's
 * layout, loaded by the runtime's own stage classes to featurise training records, and
 * copied unchanged into every version, so what is trained on is what is served.
 *
 * - `--text COL`: Tokenizer → StopWordsRemover (Spark's English list) → HashingTF.
 * - `--columns A,B,…`: a VectorAssembler of numeric columns.
 * - `--features DIR`: the stages of an existing package before its model stage, with its
 *   input schema.
 * - `--standardize` adds a StandardScalerModel (withMean, withStd) whose mean and sample
 *   standard deviation come from the first micro-batch and stay fixed, as gradient descent
 *   on raw columns of different scales barely moves the small ones.
 */

export type FeatureSource =
  | { readonly kind: 'text'; readonly column: string; readonly numFeatures: number; readonly binary: boolean }
  | { readonly kind: 'columns'; readonly columns: readonly string[] }
  | { readonly kind: 'package'; readonly dir: string };

export interface Featurized {
  /** One per record: the feature vector, or null when the record failed (see errors). */
  readonly vectors: (Vector | null)[];
  readonly errors: (ErrorBody | undefined)[];
}

export interface FeaturePath {
  readonly inputSchema: Record<string, string>;
  readonly fields: readonly InputField[];
  readonly featuresCol: string;
  /** The feature stage folders in pipeline order (each a saved Spark stage). */
  readonly stageDirs: readonly string[];
  readonly uids: readonly string[];
  featurize(records: readonly (Record<string, unknown> | null)[]): Promise<Featurized>;
  dispose(): Promise<void>;
}

const ML = 'org.apache.spark.ml.feature.';
const FEATURES_COL = 'features';
const SCALED_COL = 'scaledFeatures';

function textStages(name: string, column: string, numFeatures: number, binary: boolean): StageMetadata[] {
  const uid = (prefix: string): string => sparkUid(prefix, `mlstream-train/${name}/${prefix}`);
  const [tok, stop, tf] = [uid('Tokenizer'), uid('StopWordsRemover'), uid('HashingTF')];
  return [
    { class: `${ML}Tokenizer`, uid: tok, paramMap: { inputCol: column, outputCol: 'words' }, defaultParamMap: { outputCol: `${tok}__output` } },
    {
      class: `${ML}StopWordsRemover`,
      uid: stop,
      paramMap: { inputCol: 'words', outputCol: 'filtered' },
      defaultParamMap: { outputCol: `${stop}__output`, caseSensitive: false, locale: 'en_US', stopWords: ENGLISH_STOP_WORDS },
    },
    {
      class: `${ML}HashingTF`,
      uid: tf,
      paramMap: { inputCol: 'filtered', outputCol: FEATURES_COL, numFeatures, binary },
      defaultParamMap: { binary: false, outputCol: `${tf}__output`, numFeatures: 262144 },
    },
  ];
}

function assemblerStage(name: string, columns: readonly string[]): StageMetadata {
  const uid = sparkUid('VectorAssembler', `mlstream-train/${name}/VectorAssembler`);
  return {
    class: `${ML}VectorAssembler`,
    uid,
    paramMap: { inputCols: [...columns], outputCol: FEATURES_COL },
    defaultParamMap: { handleInvalid: 'error', outputCol: `${uid}__output` },
  };
}

/** Writes (or copies) the feature stages into `workDir/stages` and loads them. */
export async function buildFeaturePath(source: FeatureSource, name: string, workDir: string, registry: StageRegistry): Promise<FeaturePath> {
  const stagesDir = join(workDir, 'stages');
  await rm(stagesDir, { recursive: true, force: true });
  await mkdir(stagesDir, { recursive: true });
  if (source.kind === 'package') return packageFeatures(source.dir, stagesDir, registry);
  const metas = source.kind === 'text' ? textStages(name, source.column, source.numFeatures, source.binary) : [assemblerStage(name, source.columns)];
  const inputSchema: Record<string, string> =
    source.kind === 'text' ? { [source.column]: 'STRING' } : Object.fromEntries(source.columns.map((c) => [c, 'DOUBLE']));
  const dirs: string[] = [];
  for (const [i, meta] of metas.entries()) {
    const dir = join(stagesDir, `${i}_${meta.uid}`);
    await writeMetadata(dir, meta);
    dirs.push(dir);
  }
  return loadPath(inputSchema, dirs, FEATURES_COL, registry);
}

/** The stages of a package before its (first) model stage, with its input schema. */
async function packageFeatures(dir: string, stagesDir: string, registry: StageRegistry): Promise<FeaturePath> {
  const config = await readConfig(dir);
  const root = await readMetadata(dir);
  const uids = root.paramMap?.stageUids;
  if (!Array.isArray(uids)) throw new PackageError('--features needs a PipelineModel package (metadata has no stageUids)', join(dir, 'metadata'));
  const names = await readdir(join(dir, 'stages'));
  const dirs: string[] = [];
  let featuresCol: string | undefined;
  for (const [i, uid] of (uids as string[]).entries()) {
    const sub = names.find((n) => n === stageDirName(i, uids.length, uid) || n === `${i}_${uid}`);
    if (!sub) throw new PackageError(`no folder for stage ${i} (${uid})`, join(dir, 'stages'));
    const stages = await loadSparkObject(join(dir, 'stages', sub), registry);
    const model = stages.find((s) => s.modelOutputs);
    for (const s of stages) await s.dispose?.();
    if (model) {
      featuresCol = model.inputCols[0];
      break;
    }
    const copy = join(stagesDir, sub);
    await cp(join(dir, 'stages', sub), copy, { recursive: true });
    dirs.push(copy);
  }
  if (!featuresCol || dirs.length === 0) throw new PackageError('--features needs a package with feature stages before a model stage', dir);
  return loadPath(config.input_schema, dirs, featuresCol, registry);
}

async function loadPath(inputSchema: Record<string, string>, dirs: readonly string[], featuresCol: string, registry: StageRegistry): Promise<FeaturePath> {
  const fields = parseInputSchema(inputSchema);
  const stages: Stage[] = [];
  for (const d of dirs) stages.push(...(await loadSparkObject(d, registry)));
  const pipeline = new Pipeline(stages, fields.map((f) => f.name));
  // Training records need the input columns (and a label), not the `id` served records carry.
  const validate = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile({ ...recordSchema(fields), required: fields.map((f) => f.name) });
  const uids = await Promise.all(dirs.map(async (d) => (await readMetadata(d)).uid));
  return {
    inputSchema,
    fields,
    featuresCol,
    stageDirs: dirs,
    uids,
    async featurize(records) {
      const errors: (ErrorBody | undefined)[] = new Array(records.length).fill(undefined);
      const vectors: (Vector | null)[] = new Array(records.length).fill(null);
      const valid: number[] = [];
      for (const [i, r] of records.entries()) {
        if (r === null) continue;
        if (validate(r)) valid.push(i);
        else errors[i] = { code: ErrorCodes.SCHEMA_VIOLATION, ...describeErrors(validate.errors) };
      }
      if (valid.length === 0) return { vectors, errors };
      const frame = await pipeline.run(buildFrame(valid.map((i) => records[i]!), fields));
      for (const r of frame.rejections) errors[valid[r.row]!] = { code: r.code as ErrorBody['code'], message: r.message, ...(r.stage ? { stage: r.stage } : {}) };
      if (frame.length === 0) return { vectors, errors };
      const column = frame.getTyped(featuresCol, 'vector').values;
      // Stages may reuse their buffers on the next batch: keep copies.
      frame.rowIds.forEach((row, i) => {
        const v = column[i];
        vectors[valid[row]!] = v == null ? null : v instanceof Float64Array ? Float64Array.from(v) : { size: v.size, indices: Int32Array.from(v.indices), values: Float64Array.from(v.values) };
        if (v == null) errors[valid[row]!] = { code: ErrorCodes.PIPELINE_ERROR, message: `the feature column "${featuresCol}" is null` };
      });
      return { vectors, errors };
    },
    dispose: () => pipeline.dispose(),
  };
}

/** Mean and sample standard deviation (n − 1, as Spark's StandardScaler) of each feature. */
export function fitScaler(vectors: readonly Vector[]): { mean: Float64Array; std: Float64Array } {
  const dim = vectors[0] ? toDense(vectors[0]).length : 0;
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (const v of vectors) {
    const d = toDense(v);
    for (let j = 0; j < dim; j++) mean[j]! += d[j]! / vectors.length;
  }
  for (const v of vectors) {
    const d = toDense(v);
    for (let j = 0; j < dim; j++) sq[j]! += (d[j]! - mean[j]!) ** 2;
  }
  const std = sq.map((s) => (vectors.length > 1 ? Math.sqrt(s / (vectors.length - 1)) : 0));
  return { mean, std };
}

/** The path followed by a StandardScalerModel with the given statistics. */
export async function withScaler(
  path: FeaturePath,
  name: string,
  workDir: string,
  stats: { mean: Float64Array; std: Float64Array },
  registry: StageRegistry,
): Promise<FeaturePath> {
  const uid = sparkUid('StandardScaler', `mlstream-train/${name}/StandardScaler`);
  const dir = join(workDir, 'stages', `${path.stageDirs.length}_${uid}`);
  await rm(dir, { recursive: true, force: true });
  await writeMetadata(dir, {
    class: `${ML}StandardScalerModel`,
    uid,
    paramMap: { inputCol: path.featuresCol, outputCol: SCALED_COL, withMean: true, withStd: true },
    defaultParamMap: { outputCol: `${uid}__output`, withMean: false, withStd: true },
  });
  await writeData(dir, [denseVectorColumn('std', [stats.std]), denseVectorColumn('mean', [stats.mean])]);
  await path.dispose();
  return loadPath(path.inputSchema, [...path.stageDirs, dir], SCALED_COL, registry);
}
