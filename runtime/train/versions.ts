import { cp, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stageDirName } from '../packages/spark-format.js';
import { sparkUid, writeMetadata } from '../packages/spark-writer.js';
import type { FeaturePath } from './features.js';
import type { OnlineModel } from './model.js';

/**
 * Publishes versions of a trained package in the layout `mlstream serve` reads:
 * `MODELS_DIR/<name>/<N>/`, N = 1, 2, 3 …, each a complete package (Spark PipelineModel
 * layout plus config.json). A version is written under a hidden name
 * (`.<N>.tmp-<pid>`), flushed to disk, then renamed into place, so a reader never sees
 * half a version; the oldest versions beyond `keep` are removed after.
 *
 * Every byte depends on the model and the options only (uids from the package name,
 * Spark's fixed save timestamp, parquet files named by their content), so the same model
 * always gives the same files.
 */

const MODEL_PREFIX = { 'logistic-sgd': 'LogisticRegression', 'linear-sgd': 'LinearRegression', kmeans: 'KMeans' } as const;

export interface VersionContent {
  readonly name: string;
  readonly features: FeaturePath;
  readonly model: OnlineModel;
  readonly outputLabels: Record<string, string>;
  readonly inputFormat: 'json' | 'tf-example';
  readonly description: string;
}

/** The version numbers present, ascending. */
export async function listVersions(packageDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(packageDir);
  } catch {
    return [];
  }
  return names.filter((n) => /^[1-9][0-9]*$/.test(n)).map(Number).sort((a, b) => a - b);
}

/** Removes hidden temporary versions a killed trainer left behind. */
export async function removeStaleTemporaries(packageDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(packageDir);
  } catch {
    return;
  }
  for (const n of names) if (/^\.[0-9]+\.tmp-[0-9]+$/.test(n)) await rm(join(packageDir, n), { recursive: true, force: true });
}

async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else await fsyncPath(path);
  }
  await fsyncPath(dir);
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes the package content into `dir` (which must not exist). */
async function writePackage(dir: string, c: VersionContent): Promise<void> {
  const total = c.features.stageDirs.length + 1;
  const stageUids: string[] = [];
  for (const [i, src] of c.features.stageDirs.entries()) {
    const uid = c.features.uids[i]!;
    await cp(src, join(dir, 'stages', stageDirName(i, total, uid)), { recursive: true });
    stageUids.push(uid);
  }
  const prefix = MODEL_PREFIX[c.model.algorithm];
  const modelUid = sparkUid(prefix, `mlstream-train/${c.name}/${prefix}`);
  await c.model.writeStage(join(dir, 'stages', stageDirName(total - 1, total, modelUid)), modelUid, c.features.featuresCol);
  stageUids.push(modelUid);
  await writeMetadata(dir, {
    class: 'org.apache.spark.ml.PipelineModel',
    uid: sparkUid('PipelineModel', `mlstream-train/${c.name}`),
    paramMap: { stageUids },
    defaultParamMap: {},
  });
  const config = {
    description: c.description,
    input_schema: c.features.inputSchema,
    output_labels: c.outputLabels,
    ...(c.inputFormat === 'tf-example' ? { input_format: 'tf-example' } : {}),
  };
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** Writes the next version and prunes old ones; returns its number and folder. */
export async function publishVersion(modelsDir: string, c: VersionContent, keep: number): Promise<{ version: number; dir: string }> {
  const packageDir = join(modelsDir, c.name);
  await mkdir(packageDir, { recursive: true });
  const version = ((await listVersions(packageDir)).at(-1) ?? 0) + 1;
  const tmp = join(packageDir, `.${version}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await writePackage(tmp, c);
  await syncTree(tmp);
  const dir = join(packageDir, String(version));
  await rename(tmp, dir);
  await fsyncPath(packageDir);
  const all = await listVersions(packageDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(join(packageDir, String(old)), { recursive: true, force: true });
  return { version, dir };
}
