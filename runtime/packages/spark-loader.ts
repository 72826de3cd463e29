import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageRegistry } from '../pipeline/registry.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import { PackageError } from './errors.js';
import { ParamReader, readMetadata, readParquetRows, stageDirName } from './spark-format.js';

const JVM_PIPELINE = 'org.apache.spark.ml.PipelineModel';
const PYTHON_PIPELINE = 'pyspark.ml.pipeline.PipelineModel';

/**
 * Loads a saved Spark object (a PipelineModel, possibly nested, or a single saved model)
 * into a flat list of stages. Nothing in the folder is executed: class names are looked
 * up in the registry and unknown ones refuse the package.
 */
export async function loadSparkObject(dir: string, registry: StageRegistry): Promise<Stage[]> {
  const metadata = await readMetadata(dir);
  const metaFile = join(dir, 'metadata');
  if (metadata.class === PYTHON_PIPELINE) {
    throw new PackageError(await describePythonPipeline(dir, metadata.paramMap?.stageUids), metaFile);
  }
  if (metadata.class === JVM_PIPELINE) {
    const uids = metadata.paramMap?.stageUids;
    if (!Array.isArray(uids) || !uids.every((u) => typeof u === 'string')) {
      throw new PackageError('PipelineModel metadata has no paramMap.stageUids list', metaFile);
    }
    const stages: Stage[] = [];
    try {
      for (const [i, uid] of (uids as string[]).entries()) {
        const stageDir = await resolveStageDir(dir, i, uids.length, uid);
        stages.push(...(await loadSparkObject(stageDir, registry)));
      }
    } catch (e) {
      // Stages loaded before the failure may hold native resources (ONNX sessions).
      for (const s of stages) await s.dispose?.();
      throw e;
    }
    return stages;
  }
  const factory = registry.get(metadata.class);
  if (!factory) {
    throw new PackageError(
      `unknown stage class ${metadata.class} (uid ${metadata.uid})${didYouMean(metadata.class, registry.known())}`,
      metaFile,
    );
  }
  const ctx: StageContext = {
    dir,
    metadata,
    params: new ParamReader(metadata, metaFile),
    readData: (sub?: string) => readParquetRows(dir, sub),
    loadNested: (nested: string) => loadSparkObject(nested, registry),
  };
  try {
    const stage = await factory(ctx);
    return stage.expandsTo ? [...stage.expandsTo] : [stage];
  } catch (e) {
    if (e instanceof PackageError) throw e;
    throw new PackageError(`cannot load ${metadata.class}: ${(e as Error).message}`, dir);
  }
}

/** "; did you mean X?" for the nearest known class by edit distance of the short names, or a pointer to the full list. */
function didYouMean(className: string, known: readonly string[]): string {
  const short = (c: string): string => c.slice(c.lastIndexOf('.') + 1).toLowerCase();
  const wanted = short(className);
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    const d = editDistance(wanted, short(k));
    if (!best || d < best.distance) best = { name: k, distance: d };
  }
  // More than a third of the name changed is another class, not a typo.
  if (best && best.distance <= Math.max(2, Math.floor(wanted.length / 3))) return `; did you mean ${best.name}?`;
  return `; no built-in class is close (docs/spark-stages.md lists them; a plugin can add one)`;
}

/** Levenshtein distance: insertions, deletions and substitutions each cost one. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The folder of stage `index` of a PipelineModel, with or without Spark's zero padding. */
export async function resolveStageDir(dir: string, index: number, total: number, uid: string): Promise<string> {
  const padded = join(dir, 'stages', stageDirName(index, total, uid));
  if (await exists(padded)) return padded;
  const plain = join(dir, 'stages', `${index}_${uid}`);
  if (await exists(plain)) return plain;
  throw new PackageError(`stage ${index} (${uid}) has no folder`, padded);
}

async function describePythonPipeline(dir: string, uids: unknown): Promise<string> {
  const pythonStages: string[] = [];
  if (Array.isArray(uids)) {
    for (const [i, uid] of uids.entries()) {
      try {
        const m = await readMetadata(await resolveStageDir(dir, i, uids.length, String(uid)));
        if (!m.class.startsWith('org.apache.spark.')) pythonStages.push(`${m.class} (stage ${i}, ${uid})`);
      } catch {
        pythonStages.push(`stage ${i} (${uid}): unreadable`);
      }
    }
  }
  return (
    'a PySpark pipeline with Python-only stages cannot run natively' +
    (pythonStages.length ? `: ${pythonStages.join('; ')}` : '') +
    '. Re-save the pipeline without custom Python stages, or add them as plugin stages.'
  );
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
