import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { System } from './throughput.js';

/** The example packages the benchmark serves (built by `npm run build:examples`). */
export const TEXT_PACKAGE = 'spam-text';
export const ONNX_PACKAGE = 'spam-text-onnx';

export const SYSTEM_KEYS = ['plain', 'validate', 'spark', 'onnx'] as const;
export type SystemKey = (typeof SYSTEM_KEYS)[number];

/**
 * Settings every process under test gets on top of the runtime's defaults, for the mock
 * broker's sake: it keeps a rebalance open for sessionTimeout − 1 s, and it answers a fetch
 * that found no data only after the whole fetch wait even when data arrives meanwhile (a
 * real broker answers as soon as data arrives), which would put up to a full wait into
 * every latency figure.
 */
export const BENCH_ENV: Record<string, string> = { LOG_LEVEL: 'info', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '5' };

/**
 * The processes compared. mlstream gets a models folder holding only the package it
 * serves, as a deployment would: the runtime loads every package in its folder.
 */
export function systems(root: string, work: string, extraEnv: Record<string, string>): Record<SystemKey, System> {
  const env = { ...BENCH_ENV, ...extraEnv };
  const packageDir = join(root, 'model-packages', TEXT_PACKAGE);
  const pipe = (mode: string): string[] => ['--import', 'tsx', join(root, 'scripts/bench/pipe.ts'), mode, packageDir];
  const serve = (pkg: string): System['env'] => {
    const models = join(work, `models-${pkg}`);
    mkdirSync(models, { recursive: true });
    cpSync(join(root, 'model-packages', pkg), join(models, pkg), { recursive: true });
    return { ...env, MODELS_DIR: models, MODEL_PIPELINE: pkg };
  };
  return {
    plain: { key: 'plain', label: 'kafkajs pipe, no model', args: pipe('plain'), env },
    validate: { key: 'validate', label: 'pipe + JSON decode + AJV', args: pipe('validate'), env },
    spark: { key: 'spark', label: `mlstream, ${TEXT_PACKAGE} (Spark)`, args: [join(root, 'bin/mlstream.js'), 'serve'], env: serve(TEXT_PACKAGE) },
    onnx: { key: 'onnx', label: `mlstream, ${ONNX_PACKAGE}`, args: [join(root, 'bin/mlstream.js'), 'serve'], env: serve(ONNX_PACKAGE) },
  };
}

/** A variant of a system: the same process with some environment changed. */
export function variant(base: System, label: string, env: Record<string, string>): System {
  return { ...base, key: `${base.key}+`, label, env: { ...base.env, ...env }, changed: env };
}

/** The same system with node's CPU profiler on, writing to `dir`. */
export function profiled(base: System, dir: string): System {
  return { ...base, key: `${base.key}-profiled`, args: ['--cpu-prof', '--cpu-prof-dir', dir, ...base.args] };
}
