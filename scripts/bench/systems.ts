import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { installIrisTree, IRIS_PACKAGE } from './iris.js';
import type { System } from './throughput.js';

/** The example packages the benchmark serves (built by `npm run build:examples`). */
export const TEXT_PACKAGE = 'spam-text';
export const ONNX_PACKAGE = 'spam-text-onnx';
/** The topic the tabular row reads (iris records), beside the text records' `bench-input`. */
export const IRIS_TOPIC = 'bench-iris';

export const SYSTEM_KEYS = ['plain', 'librdkafka', 'platformatic', 'validate', 'spark', 'spark-librdkafka', 'spark-tsx', 'onnx', 'iris', 'iris-librdkafka', 'sklearn'] as const;
export type SystemKey = (typeof SYSTEM_KEYS)[number];

/**
 * Settings every process under test gets on top of the runtime's defaults: the mock broker
 * keeps a rebalance open for sessionTimeout − 1 s, so sessions are short; the fetch wait is
 * the runtime's default, said out loud so the Python consumer (whose own default is 500 ms)
 * waits the same. The local broker answers a waiting fetch as soon as data arrives, as a real
 * broker does (scripts/broker/patch-fetch-wait.mjs), so the wait costs no latency.
 */
export const BENCH_ENV: Record<string, string> = { LOG_LEVEL: 'info', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '1000' };

/** The Python row's interpreter, script and trained model, or why there is none. */
export type PythonSetup = { readonly python: string; readonly script: string; readonly model: string } | { readonly unavailable: string };

/**
 * The processes compared. mlstream gets a models folder holding only the package it
 * serves, as a deployment would: the runtime loads every package in its folder.
 */
export function systems(root: string, work: string, extraEnv: Record<string, string>, python: PythonSetup): Record<SystemKey, System> {
  const env = { ...BENCH_ENV, ...extraEnv };
  const packageDir = join(root, 'model-packages', TEXT_PACKAGE);
  const pipe = (mode: string): string[] => ['--import', 'tsx', join(root, 'scripts/bench/pipe.ts'), mode, packageDir];
  const models = (pkg: string): string => {
    const dir = join(work, `models-${pkg}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const serve = (pkg: string): System['env'] => {
    const dir = models(pkg);
    cpSync(join(root, 'model-packages', pkg), join(dir, pkg), { recursive: true });
    return { ...env, MODELS_DIR: dir, MODEL_PIPELINE: pkg };
  };
  const bin = join(root, 'bin/mlstream.js');
  let irisUnavailable: string | undefined;
  const irisModels = models(IRIS_PACKAGE);
  try {
    installIrisTree(root, irisModels);
  } catch (e) {
    irisUnavailable = (e as Error).message;
  }
  return {
    plain: { key: 'plain', label: 'kafkajs pipe, no model', args: pipe('plain'), env },
    platformatic: { key: 'platformatic', label: '@platformatic/kafka pipe, no model', args: ['--import', 'tsx', join(root, 'scripts/bench/pipe-platformatic.ts')], env },
    librdkafka: { key: 'librdkafka', label: 'librdkafka pipe, no model (runtime client interface)', args: ['--import', 'tsx', join(root, 'scripts/bench/pipe-client.ts')], env: { ...env, KAFKA_CLIENT: 'librdkafka' } },
    validate: { key: 'validate', label: 'pipe + JSON decode + AJV', args: pipe('validate'), env },
    spark: { key: 'spark', label: `mlstream, ${TEXT_PACKAGE} (Spark)`, args: [bin, 'serve'], env: serve(TEXT_PACKAGE) },
    'spark-librdkafka': { key: 'spark-librdkafka', label: `mlstream, ${TEXT_PACKAGE} (Spark), KAFKA_CLIENT=librdkafka`, args: [bin, 'serve'], env: { ...serve(TEXT_PACKAGE), KAFKA_CLIENT: 'librdkafka' } },
    'spark-tsx': { key: 'spark-tsx', label: `mlstream, ${TEXT_PACKAGE}, TypeScript through tsx (no build)`, args: ['--import', 'tsx', join(root, 'runtime/cli.ts'), 'serve'], env: serve(TEXT_PACKAGE) },
    onnx: { key: 'onnx', label: `mlstream, ${ONNX_PACKAGE}`, args: [bin, 'serve'], env: serve(ONNX_PACKAGE) },
    iris: {
      key: 'iris',
      label: 'mlstream, iris decision tree (Spark, 4 doubles)',
      args: [bin, 'serve'],
      env: { ...env, MODELS_DIR: irisModels, MODEL_PIPELINE: IRIS_PACKAGE },
      inputTopic: IRIS_TOPIC,
      ...(irisUnavailable ? { unavailable: irisUnavailable } : {}),
    },
    'iris-librdkafka': {
      key: 'iris-librdkafka',
      label: 'mlstream, iris decision tree (Spark, 4 doubles), KAFKA_CLIENT=librdkafka',
      args: [bin, 'serve'],
      env: { ...env, MODELS_DIR: irisModels, MODEL_PIPELINE: IRIS_PACKAGE, KAFKA_CLIENT: 'librdkafka' },
      inputTopic: IRIS_TOPIC,
      ...(irisUnavailable ? { unavailable: irisUnavailable } : {}),
    },
    sklearn:
      'unavailable' in python
        ? { key: 'sklearn', label: 'batched Python + scikit-learn, same mails', args: [], env, unavailable: python.unavailable }
        : { key: 'sklearn', label: 'batched Python + scikit-learn, same mails', command: python.python, args: [python.script, 'serve', python.model], env },
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
