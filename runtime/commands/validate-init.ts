import { access, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError, ExitCodes } from '../cli-errors.js';
import { PackageError } from '../packages/errors.js';
import { readMetadata, readParquetRows, type SparkMetadata } from '../packages/spark-format.js';
import { loadSparkObject, resolveStageDir } from '../packages/spark-loader.js';
import type { InputType } from '../pipeline/input-schema.js';
import { loadPlugins } from '../pipeline/plugins.js';
import type { Stage } from '../pipeline/stage.js';
import { builtinRegistry } from '../stages/index.js';

/**
 * `mlstream validate --init <dir>`: writes the config.json a Spark export lacks. The input
 * columns are those the stages read that no earlier stage writes (the label column and its
 * indexer left out: they are absent when serving); each type follows from the first stage
 * that reads the column (a Tokenizer reads text, a VectorAssembler numbers, a HashingTF a
 * list of words). `output_labels` come from the label indexer's fitted labels, else from an
 * IndexToString's labels. The types are a guess from the stage kinds; the file says so.
 */

/** The type a stage class reads, by its short name; stages not listed read numbers. */
const READS: Record<string, InputType> = {
  Tokenizer: 'STRING',
  RegexTokenizer: 'STRING',
  StringIndexerModel: 'STRING',
  HashingTF: 'ARRAY<STRING>',
  CountVectorizerModel: 'ARRAY<STRING>',
  StopWordsRemover: 'ARRAY<STRING>',
  NGram: 'ARRAY<STRING>',
  Word2VecModel: 'ARRAY<STRING>',
  IDFModel: 'VECTOR',
  StandardScalerModel: 'VECTOR',
  MinMaxScalerModel: 'VECTOR',
  MaxAbsScalerModel: 'VECTOR',
  Normalizer: 'VECTOR',
  PCAModel: 'VECTOR',
  VectorIndexerModel: 'VECTOR',
  ElementwiseProduct: 'VECTOR',
  VectorSlicer: 'VECTOR',
  PolynomialExpansion: 'VECTOR',
  DCT: 'VECTOR',
  ChiSqSelectorModel: 'VECTOR',
};

export interface Skeleton {
  readonly input_schema: Record<string, InputType>;
  readonly output_labels: Record<string, string>;
  readonly description: string;
}

export async function initCommand(dir: string, opts: { force: boolean; plugin: string[] }): Promise<number> {
  const path = resolve(dir);
  const target = join(path, 'config.json');
  if (!opts.force && (await exists(target))) {
    throw new CliError(`${target} already exists`, undefined, 'edit it, or pass --force to replace it with a fresh skeleton', ExitCodes.USAGE);
  }
  const registry = builtinRegistry();
  await loadPlugins(opts.plugin, registry);
  let skeleton: Skeleton;
  try {
    skeleton = await configSkeleton(path, await loadSparkObject(path, registry));
  } catch (e) {
    if (e instanceof PackageError) throw new CliError(`cannot write a config.json: ${e.message}`, undefined, 'fix the package (see the file named), then run --init again');
    throw e;
  }
  await writeFile(target, `${JSON.stringify(skeleton, null, 2)}\n`);
  process.stdout.write(`wrote ${target}: inputs ${Object.entries(skeleton.input_schema).map(([c, t]) => `${c}: ${t}`).join(', ')}; ${Object.keys(skeleton.output_labels).length} labels\n`);
  return ExitCodes.OK;
}

/** The skeleton for a loaded pipeline (stages in order) saved in `dir`. */
export async function configSkeleton(dir: string, stages: readonly Stage[]): Promise<Skeleton> {
  try {
    const metadata = await stageMetadata(dir);
    const labelCols = new Set([...metadata.values()].map((m) => param(m.metadata, 'labelCol')).filter((c): c is string => typeof c === 'string'));
    const labelIndexer = stages.find((s) => s.className.endsWith('StringIndexerModel') && s.outputCols.some((c) => labelCols.has(c)));
    const inputs: Record<string, InputType> = {};
    const written = new Set<string>();
    for (const stage of stages) {
      if (stage === labelIndexer) continue;
      for (const col of stage.inputCols) {
        if (!written.has(col) && !labelCols.has(col) && !(col in inputs)) inputs[col] = typeRead(stage, metadata.get(stage.uid)?.metadata, col);
      }
      for (const col of stage.outputCols) written.add(col);
    }
    const labels = labelIndexer ? await fittedLabels(metadata.get(labelIndexer.uid)?.dir) : indexToStringLabels(stages, metadata);
    return {
      description: `Written by mlstream validate --init from the stages ${stages.map((s) => s.className.slice(s.className.lastIndexOf('.') + 1)).join(' → ')}; the types are guessed from the stage kinds: check them.`,
      input_schema: inputs,
      output_labels: Object.fromEntries(labels.map((label, i) => [String(i), label])),
    };
  } finally {
    for (const s of stages) await s.dispose?.();
  }
}

function typeRead(stage: Stage, metadata: SparkMetadata | undefined, col: string): InputType {
  const short = stage.className.slice(stage.className.lastIndexOf('.') + 1);
  const known = READS[short];
  if (known) return known;
  // A model stage reads its features as one vector.
  if (metadata && param(metadata, 'featuresCol') === col) return 'VECTOR';
  return 'DOUBLE';
}

function param(m: SparkMetadata, name: string): unknown {
  return m.paramMap?.[name] ?? m.defaultParamMap?.[name];
}

/** Every stage's metadata and folder by uid, nested pipelines included. */
async function stageMetadata(dir: string): Promise<Map<string, { metadata: SparkMetadata; dir: string }>> {
  const out = new Map<string, { metadata: SparkMetadata; dir: string }>();
  const visit = async (d: string): Promise<void> => {
    const metadata = await readMetadata(d);
    out.set(metadata.uid, { metadata, dir: d });
    const uids = metadata.paramMap?.stageUids;
    if (!Array.isArray(uids)) return;
    for (const [i, uid] of uids.entries()) await visit(await resolveStageDir(d, i, uids.length, String(uid)));
  };
  await visit(dir);
  return out;
}

/** A StringIndexerModel's labels as fitted: `labelsArray[0]` since Spark 3, `labels` before. */
async function fittedLabels(dir: string | undefined): Promise<string[]> {
  if (!dir) return [];
  const row = (await readParquetRows(dir))[0];
  const labels = (row?.labelsArray as unknown[][] | undefined)?.[0] ?? (row?.labels as unknown[] | undefined) ?? [];
  return labels.map(String);
}

function indexToStringLabels(stages: readonly Stage[], metadata: Map<string, { metadata: SparkMetadata }>): string[] {
  const converter = stages.find((s) => s.className.endsWith('IndexToString'));
  const labels = converter ? param(metadata.get(converter.uid)!.metadata, 'labels') : undefined;
  return Array.isArray(labels) ? labels.map(String) : [];
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
