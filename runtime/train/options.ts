import { InvalidArgumentError, Option, type Command } from 'commander';
import type { FeatureSource } from './features.js';
import { decayForHalfLife, type TimeUnit } from './kmeans.js';
import type { Algorithm } from './model.js';
import type { Updater } from './sgd.js';

/**
 * `mlstream train`'s own flags (Kafka connection settings come from the runtime config)
 * and their checks: a bad value or combination ends in a usage message and exit code 2.
 * Names follow Spark's setters (stepSize, numIterations, miniBatchFraction, regParam,
 * decayFactor, halfLife, timeUnit); defaults are those of StreamingLogisticRegressionWithSGD,
 * StreamingLinearRegressionWithSGD and StreamingKMeans.
 */

export interface TrainOptions {
  readonly inputTopic: string;
  readonly label: string | undefined;
  readonly algorithm: Algorithm;
  readonly features: FeatureSource;
  readonly standardize: boolean;
  readonly name: string;
  readonly every: number;
  readonly everySeconds: number | undefined;
  readonly batchSize: number;
  readonly keep: number;
  readonly inputFormat: 'json' | 'tf-example';
  readonly k: number;
  readonly decayFactor: number;
  readonly timeUnit: TimeUnit;
  readonly stepSize: number;
  readonly numIterations: number;
  readonly miniBatchFraction: number;
  readonly regParam: number;
  readonly updater: Updater;
  readonly convergenceTol: number;
  readonly intercept: boolean;
  readonly seed: number;
  readonly window: number;
  readonly untilEnd: boolean;
  readonly groupId: string | undefined;
  readonly errorsTopic: string;
  readonly stateDir: string | undefined;
  readonly warmStart: string | undefined;
  readonly holdoutTopic: string | undefined;
}

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
};
const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
const nonNegative = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
};
const fraction = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('must be in (0, 1]');
  return n;
};
const topicName = (v: string): string => {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(v)) throw new InvalidArgumentError('is not a valid Kafka topic name');
  return v;
};
const packageName = (v: string): string => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v)) throw new InvalidArgumentError('must be a folder name: letters, digits, . _ - (not starting with . or -)');
  return v;
};

export function trainFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--input-topic <topic>', 'labelled topic to learn from', topicName)
    .option('--label <column>', 'label column (required except for kmeans)')
    .addOption(new Option('--algorithm <name>', 'online model').choices(['logistic-sgd', 'linear-sgd', 'kmeans']).makeOptionMandatory())
    .option('--text <column>', 'features: Tokenizer → StopWordsRemover → HashingTF of this text column')
    .option('--columns <a,b,…>', 'features: a VectorAssembler of these numeric columns')
    .option('--features <package-dir>', "features: the feature stages and input schema of this package")
    .option('--num-features <n>', 'HashingTF numFeatures (with --text)', positiveInt, 262144)
    .option('--binary', 'HashingTF binary=true: term presence instead of counts (with --text)', false)
    .option('--standardize', 'add a StandardScalerModel fitted on the first micro-batch (dense features)', false)
    .requiredOption('--name <name>', 'package name: versions go to MODELS_DIR/<name>/<N>/', packageName)
    .option('--every <n>', 'write a version every n records', positiveInt, 1000)
    .option('--every-seconds <s>', 'also write a version every s seconds when something was learned', positive)
    .option('--batch-size <n>', 'records per micro-batch (per partition)', positiveInt, 100)
    .option('--keep <k>', 'versions kept (oldest removed)', positiveInt, 5)
    .addOption(new Option('--input-format <format>', 'message values').choices(['json', 'tf-example']).default('json'))
    .option('--k <k>', 'kmeans: number of clusters', positiveInt, 2)
    .option('--decay-factor <d>', 'kmeans: weight kept by past data per time unit', nonNegative, 1)
    .option('--half-life <h>', 'kmeans: time units after which past data weighs half (sets the decay factor)', positive)
    .addOption(new Option('--time-unit <unit>', 'kmeans: what decay counts').choices(['batches', 'points']).default('batches'))
    .option('--step-size <s>', 'SGD stepSize (iteration i steps stepSize/√i)', positive, 0.1)
    .option('--num-iterations <n>', 'SGD iterations per micro-batch', positiveInt, 50)
    .option('--mini-batch-fraction <f>', 'SGD fraction of a micro-batch sampled per iteration', fraction, 1)
    .option('--reg-param <r>', 'SGD regularisation', nonNegative, 0)
    .addOption(new Option('--updater <name>', 'SGD regulariser (default: squared-l2 for logistic-sgd, simple for linear-sgd)').choices(['simple', 'squared-l2', 'l1']))
    .option('--convergence-tol <t>', 'SGD: stop a batch early when the weights move less than this (relative)', nonNegative, 0.001)
    .option('--intercept', 'SGD: fit an intercept (Spark appends a constant feature)', false)
    .option('--seed <n>', 'kmeans: seed of the random initial centres', (v) => Number.parseInt(v, 10), 42)
    .option('--window <n>', 'prequential evaluation window, in records', positiveInt, 1000)
    .option('--until-end', 'stop once caught up with the end of the topic', false)
    .option('--errors-topic <topic>', 'where records that cannot be learned go', topicName, 'errors')
    .option('--state-dir <dir>', 'checkpoint folder (default MODELS_DIR/<name>/.trainer)')
    .option('--holdout-topic <topic>', 'labelled records to evaluate the model on, never learned', topicName)
    .option('--warm-start <package-dir>', "start from this package's model weights (when there is no checkpoint yet)");
}

interface RawTrainFlags {
  inputTopic: string;
  label?: string;
  algorithm: Algorithm;
  text?: string;
  columns?: string;
  features?: string;
  numFeatures: number;
  binary: boolean;
  standardize: boolean;
  name: string;
  every: number;
  everySeconds?: number;
  batchSize: number;
  keep: number;
  inputFormat: 'json' | 'tf-example';
  k: number;
  decayFactor: number;
  halfLife?: number;
  timeUnit: TimeUnit;
  stepSize: number;
  numIterations: number;
  miniBatchFraction: number;
  regParam: number;
  updater?: Updater;
  convergenceTol: number;
  intercept: boolean;
  seed: number;
  window: number;
  untilEnd: boolean;
  errorsTopic: string;
  stateDir?: string;
  warmStart?: string;
  holdoutTopic?: string;
}

/** Cross-flag rules commander cannot express; throws InvalidArgumentError with the reason. */
export function trainOptions(raw: RawTrainFlags, groupId: string | undefined): TrainOptions {
  const sources = [raw.text, raw.columns, raw.features].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new InvalidArgumentError('give exactly one of --text, --columns, --features');
  if (raw.algorithm !== 'kmeans' && !raw.label) throw new InvalidArgumentError(`--label is required for ${raw.algorithm}`);
  if (raw.text !== undefined && raw.standardize) throw new InvalidArgumentError('--standardize centres the features, which would make hashed text vectors dense; use it with --columns or --features');
  if (raw.holdoutTopic !== undefined && raw.holdoutTopic === raw.inputTopic) throw new InvalidArgumentError('--holdout-topic must differ from --input-topic');
  if (!Number.isSafeInteger(raw.seed)) throw new InvalidArgumentError('--seed must be an integer');
  const features: FeatureSource =
    raw.text !== undefined
      ? { kind: 'text', column: raw.text, numFeatures: raw.numFeatures, binary: raw.binary }
      : raw.columns !== undefined
        ? { kind: 'columns', columns: raw.columns.split(',').map((c) => c.trim()).filter(Boolean) }
        : { kind: 'package', dir: raw.features! };
  if (features.kind === 'columns' && features.columns.length === 0) throw new InvalidArgumentError('--columns needs at least one column');
  return {
    inputTopic: raw.inputTopic,
    label: raw.algorithm === 'kmeans' ? undefined : raw.label,
    algorithm: raw.algorithm,
    features,
    standardize: raw.standardize,
    name: raw.name,
    every: raw.every,
    everySeconds: raw.everySeconds,
    batchSize: raw.batchSize,
    keep: raw.keep,
    inputFormat: raw.inputFormat,
    k: raw.k,
    decayFactor: raw.halfLife !== undefined ? decayForHalfLife(raw.halfLife) : raw.decayFactor,
    timeUnit: raw.timeUnit,
    stepSize: raw.stepSize,
    numIterations: raw.numIterations,
    miniBatchFraction: raw.miniBatchFraction,
    regParam: raw.regParam,
    updater: raw.updater ?? (raw.algorithm === 'logistic-sgd' ? 'squared-l2' : 'simple'),
    convergenceTol: raw.convergenceTol,
    intercept: raw.intercept,
    seed: raw.seed,
    window: raw.window,
    untilEnd: raw.untilEnd,
    groupId,
    errorsTopic: raw.errorsTopic,
    stateDir: raw.stateDir,
    warmStart: raw.warmStart,
    holdoutTopic: raw.holdoutTopic,
  };
}
