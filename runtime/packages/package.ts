import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { validateConfig } from './schema-validators.js';
import type { ValidateFunction } from 'ajv';
import { inputAttributes } from '../pipeline/attributes.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { buildFrame, parseInputSchema, type InputField } from '../pipeline/input-schema.js';
import type { StageRegistry } from '../pipeline/registry.js';
import { PackageError } from './errors.js';
import { LoadScope } from './load-scope.js';
import { jsonSyntaxReason } from './spark-format.js';
import { loadSparkObject } from './spark-loader.js';
import { checkPackageTree } from './tree-check.js';
import { compileRecordValidator } from './validator.js';
import type { ServingSettings } from './serving.js';

export interface PackageConfig extends ServingSettings {
  input_schema: Record<string, string>;
  output_labels?: Record<string, string>;
  input_format?: 'json' | 'tf-example';
}

/** One loaded, checked version of a package: everything the hot path needs, computed once. */
export interface ModelVersion {
  readonly name: string;
  /**
   * The version's name in outputs and headers: its folder number in the versioned layout
   * (`spam/2/` is "2"), the content hash in the flat layout.
   */
  readonly version: string;
  /** Content hash of the version's folder: changes whenever any file does. */
  readonly contentHash: string;
  readonly dir: string;
  readonly config: PackageConfig;
  readonly fields: readonly InputField[];
  readonly validate: ValidateFunction;
  readonly pipeline: Pipeline;
  /** Raw prediction text ("1") to label; empty: raw values pass through. */
  readonly labels: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
}

/**
 * A warm-up run longer than this refuses the package: a remote stage whose server accepts
 * connections but never answers would otherwise hold the load for its timeout × retries.
 */
export const WARMUP_LIMIT_MS = 10_000;

/**
 * Loads and checks a package completely: config, every stage, the wiring of columns, and a
 * warm-up run on a synthetic record. Throws PackageError naming the file and the reason.
 * `signal` stops the load between files and stages (a PackageError "loading stopped").
 */
export async function loadPackage(dir: string, registry: StageRegistry, name = basename(dir), signal?: AbortSignal, versionLabel?: string): Promise<ModelVersion> {
  const scope = await LoadScope.open(dir, signal);
  await checkPackageTree(dir, signal);
  const config = await readConfig(dir);
  let fields: InputField[];
  try {
    fields = parseInputSchema(config.input_schema);
  } catch (e) {
    throw new PackageError((e as Error).message, join(dir, 'config.json'));
  }
  const version = await contentHash(dir, scope);
  const stages = await loadSparkObject(dir, registry, scope);
  let pipeline: Pipeline;
  try {
    pipeline = new Pipeline(stages, fields.map((f) => f.name), inputAttributes(fields));
  } catch (e) {
    for (const s of stages) await s.dispose?.();
    throw e instanceof PackageError ? new PackageError(e.message, dir) : e;
  }
  if (!pipeline.outputs && !pipeline.featureCol) {
    await pipeline.dispose();
    throw new PackageError('no stage of the pipeline runs for this input schema, so it outputs nothing', dir);
  }
  try {
    scope.checkpoint(dir);
    // A vector's size is not declared in input_schema, so no synthetic vector would be
    // right: packages with VECTOR inputs are checked by their wiring only.
    if (!fields.some((f) => f.type === 'VECTOR')) await bounded(pipeline.run(buildFrame([syntheticRecord(fields)], fields)), signal, dir);
    // A load given up on while warming up must not hand back a version nobody will dispose.
    scope.checkpoint(dir);
  } catch (e) {
    await pipeline.dispose();
    throw e instanceof PackageError ? e : new PackageError(`warm-up run failed: ${(e as Error).message}`, dir);
  }
  return {
    name,
    version: versionLabel ?? version,
    contentHash: version,
    dir,
    config,
    fields,
    validate: compileRecordValidator(fields),
    pipeline,
    labels: new Map(Object.entries(config.output_labels ?? {})),
    loadedAt: new Date(),
  };
}

export async function readConfig(dir: string): Promise<PackageConfig> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new PackageError('config.json is missing or unreadable', file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PackageError(`not valid JSON (${jsonSyntaxReason(e)})`, file);
  }
  if (!validateConfig(parsed)) {
    const why = (validateConfig.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new PackageError(`does not match schemas/config.schema.json: ${why}`, file);
  }
  return parsed as unknown as PackageConfig;
}

/** `work`, or a PackageError once WARMUP_LIMIT_MS pass or `signal` fires, whichever is first. */
async function bounded<T>(work: Promise<T>, signal: AbortSignal | undefined, dir: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PackageError(`warm-up run did not finish within ${WARMUP_LIMIT_MS} ms`, dir)), WARMUP_LIMIT_MS);
    onAbort = () => reject(new PackageError('loading stopped during the warm-up run', dir));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  // The abandoned run settles on its own (remote requests end at their timeouts); only its result is dropped.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function syntheticRecord(fields: readonly InputField[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const f of fields) {
    switch (f.type) {
      case 'STRING':
        r[f.name] = 'warm up';
        break;
      case 'BOOLEAN':
        r[f.name] = false;
        break;
      case 'ARRAY<STRING>':
        r[f.name] = ['warm', 'up'];
        break;
      default:
        r[f.name] = 0;
    }
  }
  return r;
}

/** sha256 over every non-hidden file's relative path and bytes, in a stable order. */
export async function contentHash(dir: string, scope?: LoadScope): Promise<string> {
  const within = scope ?? (await LoadScope.open(dir));
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .filter((rel) => !rel.split('/').some((part) => part.startsWith('.')))
    .sort();
  for (const rel of files) {
    within.checkpoint(join(dir, rel));
    hash.update(rel).update('\0');
    hash.update(await readFile(join(dir, rel))).update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}
