import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { decoderFor, type Decoder } from '../codecs/index.js';
import type { ErrorBody } from '../engine/messages.js';
import { ErrorCodes } from '../errors.js';
import type { Vector } from '../pipeline/frame.js';
import type { StageRegistry } from '../pipeline/registry.js';
import { decodeFloats, encodeFloats, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { buildFeaturePath, fitScaler, withScaler, type FeaturePath, type Featurized } from './features.js';
import { LabelIndex } from './labels.js';
import { createModel, featureSize, type ModelSettings, type OnlineModel } from './model.js';
import type { TrainOptions } from './options.js';
import { Prequential, type WindowSummary } from './prequential.js';
import type { LabelledPoint } from './sgd.js';
import { publishVersion, removeStaleTemporaries } from './versions.js';
import { warmStartState } from './warm-start.js';
import { PackageError } from '../packages/errors.js';

/**
 * One trainer: a micro-batch of a partition's records in, a model updated in place. For
 * each batch: decode, check the label, featurise through the package's feature stages,
 * predict every record with the model as it stands (prequential), then learn the batch.
 * Nothing here knows Kafka; `consumer.ts` feeds it and commits after `checkpoint()`.
 *
 * Everything that shapes the model is a function of the records and the options (no
 * clock, no unseeded randomness), so replaying the same batches gives the same bits.
 */

export interface InputRecord {
  readonly offset: bigint;
  readonly value: Buffer | null;
}

export interface RecordFailure {
  readonly offset: bigint;
  readonly error: ErrorBody;
}

export interface TrainerStatus {
  readonly records: number;
  readonly trained: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly versions: number;
  readonly lastVersion: number | undefined;
  readonly prequential: WindowSummary;
  readonly holdout?: WindowSummary;
}

export class Trainer {
  private model: OnlineModel | undefined;
  private scaled = false;
  private records = 0;
  private trained = 0;
  private errors: Record<string, number> = {};
  private versionAt = 0;
  private versionsWritten = 0;
  private lastVersion: number | undefined;
  private readonly offsets = new Map<number, bigint>();
  private scaler: { mean: Float64Array; std: Float64Array } | undefined;
  /** The latest held-out records (at most a window of them), featurised, never learned. */
  private readonly heldOut: { features: Vector; label: number }[] = [];
  readonly prequential: Prequential;
  private readonly decode: Decoder;
  private readonly settingsKey: string;

  private constructor(
    readonly options: TrainOptions,
    readonly modelsDir: string,
    private features: FeaturePath,
    private readonly labels: LabelIndex,
    private readonly registry: StageRegistry,
    private readonly workDir: string,
  ) {
    this.prequential = new Prequential(options.algorithm, options.window);
    // A tf.train.Example label reads as a number (float_list, int64_list) or a string (bytes_list).
    this.decode = decoderFor(options.inputFormat, features.fields);
    this.settingsKey = settingsKey(options);
  }

  /** Builds the feature path and restores the last checkpoint, if any. */
  static async open(options: TrainOptions, modelsDir: string, registry: StageRegistry): Promise<Trainer> {
    const workDir = options.stateDir ?? join(modelsDir, options.name, '.trainer');
    await removeStaleTemporaries(join(modelsDir, options.name));
    const features = await buildFeaturePath(options.features, options.name, workDir, registry);
    const kind = options.algorithm === 'linear-sgd' ? 'number' : 'class';
    const checkpoint = await readCheckpoint(join(workDir, 'checkpoint.json'));
    const labels = new LabelIndex(kind, options.algorithm === 'logistic-sgd' ? 2 : 0, checkpoint?.labels);
    const trainer = new Trainer(options, modelsDir, features, labels, registry, workDir);
    try {
      if (checkpoint) await trainer.restore(checkpoint);
      else if (options.warmStart) await trainer.warmStart(options.warmStart);
    } catch (e) {
      await trainer.close();
      throw e;
    }
    return trainer;
  }

  private get modelSettings(): ModelSettings {
    const o = this.options;
    return {
      algorithm: o.algorithm,
      seed: o.seed,
      kmeans: { k: o.k, decayFactor: o.decayFactor, timeUnit: o.timeUnit },
      sgd: {
        stepSize: o.stepSize,
        numIterations: o.numIterations,
        miniBatchFraction: o.miniBatchFraction,
        regParam: o.regParam,
        updater: o.updater,
        convergenceTol: o.convergenceTol,
        intercept: o.intercept,
      },
    };
  }

  private async restore(c: Checkpoint): Promise<void> {
    if (c.settings !== this.settingsKey) {
      throw new Error(`the checkpoint in ${this.workDir} was made with other training options; remove it or use another --name`);
    }
    for (const [p, o] of Object.entries(c.offsets)) this.offsets.set(Number(p), BigInt(o));
    this.records = c.records;
    this.trained = c.trained;
    this.errors = { ...c.errors };
    this.versionAt = c.versionAt;
    if (c.scaler) await this.useScaler({ mean: decodeFloats(c.scaler.mean), std: decodeFloats(c.scaler.std) });
    if (c.model) {
      this.model = createModel(this.modelSettings, c.model.dim, { params: decodeFloats(c.model.params), clusterWeights: decodeFloats(c.model.clusterWeights), dim: c.model.dim });
    }
    this.prequential.restore(c.prequential);
  }

  private async warmStart(dir: string): Promise<void> {
    const state = await warmStartState(dir, this.options.algorithm, this.options.intercept);
    if (this.options.algorithm === 'kmeans' && state.clusterWeights.length !== this.options.k) {
      throw new PackageError(`--warm-start: the package has ${state.clusterWeights.length} centres, --k is ${this.options.k}`, dir);
    }
    this.model = createModel(this.modelSettings, state.dim, state);
  }

  private async useScaler(stats: { mean: Float64Array; std: Float64Array }): Promise<void> {
    this.scaler = stats;
    this.features = await withScaler(this.features, this.options.name, this.workDir, stats, this.registry);
    this.scaled = true;
  }

  /** The next offset to learn in a partition (records before it are already in the model). */
  nextOffset(partition: number): bigint {
    return this.offsets.get(partition) ?? 0n;
  }

  /** Learns one micro-batch of a partition; returns the records that could not be learned. */
  async trainBatch(partition: number, batch: readonly InputRecord[]): Promise<RecordFailure[]> {
    if (batch.length === 0) return [];
    const failures: RecordFailure[] = [];
    const fail = (i: number, error: ErrorBody): void => {
      failures.push({ offset: batch[i]!.offset, error });
      this.errors[error.code] = (this.errors[error.code] ?? 0) + 1;
    };
    const records = batch.map((m, i) => {
      if (m.value === null) {
        fail(i, { code: ErrorCodes.DECODE_ERROR, message: 'the message has no value' });
        return null;
      }
      const d = this.decode(m.value);
      if ('error' in d) {
        fail(i, d.error);
        return null;
      }
      return d.record;
    });
    const labels = this.readLabels(records, fail);
    const featurize = (): Promise<Featurized> => this.features.featurize(records.map((r, i) => (labels[i] === undefined ? null : r)));
    let vectors: (Vector | null)[];
    let errors: (ErrorBody | undefined)[];
    try {
      ({ vectors, errors } = await featurize());
      if (this.options.standardize && !this.scaled) {
        const good = vectors.filter((v): v is Vector => v !== null);
        if (good.length > 0) {
          await this.useScaler(fitScaler(good));
          ({ vectors, errors } = await featurize());
        }
      }
    } catch (e) {
      // A feature stage failing on the batch as a whole: its records fail, training goes on.
      const error: ErrorBody = { code: ErrorCodes.PIPELINE_ERROR, message: (e as Error).message };
      vectors = records.map(() => null);
      errors = records.map((r, i) => (r !== null && labels[i] !== undefined ? error : undefined));
    }
    const points: LabelledPoint[] = [];
    vectors.forEach((v, i) => {
      if (errors[i]) return fail(i, errors[i]);
      if (v === null) return;
      this.model ??= createModel(this.modelSettings, featureSize(v));
      if (featureSize(v) !== this.model.dim) {
        return fail(i, { code: ErrorCodes.PIPELINE_ERROR, message: `the features have size ${featureSize(v)}, the model ${this.model.dim}` });
      }
      points.push({ features: v, label: labels[i]!, partition, offset: batch[i]!.offset });
    });
    if (this.model) {
      for (const p of points) this.prequential.add(this.model.evaluate(p.features, p.label));
      if (points.length > 0) this.model.update(points);
    }
    this.records += batch.length;
    this.trained += points.length;
    this.offsets.set(partition, batch.at(-1)!.offset + 1n);
    this.prequential.mark(this.holdoutSummary());
    return failures;
  }

  /**
   * Keeps held-out records (from --holdout-topic) to evaluate the model on; they are never
   * learned. Records that cannot be read, or carry a label the model has not learned, are
   * left out. Returns how many were kept.
   */
  async holdOut(batch: readonly InputRecord[]): Promise<number> {
    const column = this.options.label;
    const records = batch.map((m) => {
      const d = m.value === null ? undefined : this.decode(m.value);
      return d && 'record' in d ? d.record : null;
    });
    const labels = records.map((r) => (r === null ? undefined : column ? this.labels.encode(r[column]) : 0));
    const { vectors } = await this.features.featurize(records.map((r, i) => (typeof labels[i] === 'number' ? r : null)));
    let kept = 0;
    vectors.forEach((v, i) => {
      if (v === null || (this.model && featureSize(v) !== this.model.dim)) return;
      this.heldOut.push({ features: v, label: labels[i] as number });
      kept++;
    });
    this.heldOut.splice(0, Math.max(0, this.heldOut.length - this.options.window));
    return kept;
  }

  /** The current model on the held-out records; undefined without any (or before a model exists). */
  holdoutSummary(): WindowSummary | undefined {
    if (!this.model || this.heldOut.length === 0) return undefined;
    const window = new Prequential(this.options.algorithm, this.heldOut.length);
    for (const h of this.heldOut) if (featureSize(h.features) === this.model.dim) window.add(this.model.evaluate(h.features, h.label));
    return window.summary();
  }

  /** Label numbers by record (undefined where the record failed or was not decoded). */
  private readLabels(records: readonly (Record<string, unknown> | null)[], fail: (i: number, e: ErrorBody) => void): (number | undefined)[] {
    const column = this.options.label;
    if (!column) return records.map((r) => (r ? 0 : undefined));
    this.labels.learn(records.map((r) => r?.[column]));
    return records.map((r, i) => {
      if (!r) return undefined;
      const n = this.labels.encode(r[column]);
      if (typeof n === 'number') return n;
      fail(i, { code: ErrorCodes.SCHEMA_VIOLATION, message: `${n} (label column "${column}")` });
      return undefined;
    });
  }

  /** True when `every` records have been consumed since the last version. */
  versionDue(): boolean {
    return this.records - this.versionAt >= this.options.every;
  }

  hasNewSinceVersion(): boolean {
    return this.model !== undefined && this.records > this.versionAt;
  }

  /** Writes the model as the next version of the package; undefined before anything was learned. */
  async publish(): Promise<{ version: number; dir: string } | undefined> {
    if (!this.model) return undefined;
    const published = await publishVersion(
      this.modelsDir,
      {
        name: this.options.name,
        features: this.features,
        model: this.model,
        outputLabels: this.labels.outputLabels(),
        inputFormat: this.options.inputFormat,
        description: `Trained by mlstream train (${this.options.algorithm}) from topic ${this.options.inputTopic}: ${this.trained} records learned.`,
      },
      this.options.keep,
    );
    this.versionAt = this.records;
    this.versionsWritten++;
    this.lastVersion = published.version;
    return published;
  }

  /** Writes the checkpoint (atomically, fsynced); the caller commits the offsets after. */
  async checkpoint(): Promise<void> {
    const model = this.model?.state();
    await writeCheckpoint(join(this.workDir, 'checkpoint.json'), {
      format: 1,
      settings: this.settingsKey,
      offsets: Object.fromEntries([...this.offsets].map(([p, o]) => [String(p), String(o)])),
      records: this.records,
      trained: this.trained,
      errors: this.errors,
      versionAt: this.versionAt,
      labels: this.labels.labels,
      ...(this.scaler ? { scaler: { mean: encodeFloats(this.scaler.mean), std: encodeFloats(this.scaler.std) } } : {}),
      ...(model ? { model: { dim: model.dim, params: encodeFloats(model.params), clusterWeights: encodeFloats(model.clusterWeights) } } : {}),
      prequential: this.prequential.snapshot(),
    });
  }

  /** The model as it stands (for tests and the HTTP page); undefined before the first batch. */
  get current(): OnlineModel | undefined {
    return this.model;
  }

  get featurePath(): FeaturePath {
    return this.features;
  }

  status(): TrainerStatus {
    return {
      records: this.records,
      trained: this.trained,
      errors: this.errors,
      versions: this.versionsWritten,
      lastVersion: this.lastVersion,
      prequential: this.prequential.summary(),
      ...(this.heldOut.length && this.model ? { holdout: this.holdoutSummary()! } : {}),
    };
  }

  async close(): Promise<void> {
    await this.features.dispose();
  }
}

/** The options that shape the model, as text: a checkpoint is only resumed under the same ones. */
function settingsKey(o: TrainOptions): string {
  const shaping = {
    algorithm: o.algorithm,
    label: o.label,
    features: o.features,
    standardize: o.standardize,
    batchSize: o.batchSize,
    inputFormat: o.inputFormat,
    k: o.k,
    decayFactor: o.decayFactor,
    timeUnit: o.timeUnit,
    stepSize: o.stepSize,
    numIterations: o.numIterations,
    miniBatchFraction: o.miniBatchFraction,
    regParam: o.regParam,
    updater: o.updater,
    convergenceTol: o.convergenceTol,
    intercept: o.intercept,
    seed: o.seed,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 16);
}
