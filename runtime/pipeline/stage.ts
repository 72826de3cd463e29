import type { AttributeSchema, ColumnAttributes } from './attributes.js';
import type { Frame } from './frame.js';
import type { ParamReader, SparkMetadata } from '../packages/spark-format.js';

/**
 * One step of a pipeline. A stage reads its columns from the frame and writes new ones;
 * it knows nothing of Kafka or of records. Everything that can be prepared when a package
 * version loads is prepared by the factory, so transform() only loops over the batch.
 */
export interface Stage {
  readonly uid: string;
  readonly className: string;
  /** Columns this stage reads (used to check the wiring before a package may serve). */
  readonly inputCols: readonly string[];
  /** Columns this stage writes. */
  readonly outputCols: readonly string[];
  /**
   * Set by model stages: the columns holding their outputs. The last stage that has one
   * decides the package's `prediction` (and `probability`).
   */
  readonly modelOutputs?: ModelOutputs;
  /** True when the stage does nothing for this input (e.g. a label indexer whose column is absent). */
  skips?(available: ReadonlySet<string>): boolean;
  /**
   * The columns the stage reads and writes given the columns available before it, where that
   * depends on them: a multi-column StringIndexerModel indexes only the inputs present, as
   * Spark does. Absent: `inputCols` and `outputCols`.
   */
  columnsFor?(available: ReadonlySet<string>): { readonly inputCols: readonly string[]; readonly outputCols: readonly string[] };
  /**
   * Spark's ML attributes of the columns this stage writes, given those of the columns
   * before it; absent, its outputs carry none. Called once, in pipeline order, when the
   * pipeline is built: stages whose work depends on attributes (Interaction, VectorSlicer by
   * names) settle it here, and a PackageError thrown here refuses the package.
   */
  attributes?(before: AttributeSchema): ReadonlyMap<string, ColumnAttributes>;
  transform(frame: Frame): void | Promise<void>;
  /**
   * A fused implementation of this stage together with the stages right after it, offered
   * when their params allow one (see pipeline/fusion.ts); undefined keeps the general path.
   */
  fuseWith?(following: readonly Stage[]): FusedStage | undefined;
  /**
   * Set by wrappers that only hold other saved objects (a tuning model's bestModel,
   * RFormulaModel's inner pipeline): the loader puts these stages in the wrapper's place.
   */
  readonly expandsTo?: readonly Stage[];
  /** Releases native resources (ONNX sessions, sockets). Called once, after the last batch. */
  dispose?(): void | Promise<void>;
}

/** One stage doing the work of `count` adjacent stages (the offering stage first). */
export interface FusedStage {
  readonly stage: Stage;
  readonly count: number;
}

export interface ModelOutputs {
  readonly predictionCol: string;
  readonly probabilityCol?: string;
  readonly rawPredictionCol?: string;
  /** Number of classes for classifiers (probability vectors have this size). */
  readonly numClasses?: number;
  /**
   * Columns the model writes beside its prediction that belong in the prediction message,
   * under their own names (AFTSurvivalRegressionModel's quantiles).
   */
  readonly bodyCols?: readonly string[];
}

/** What a stage factory gets: the stage's folder, its Spark metadata and helpers to read it. */
export interface StageContext {
  readonly dir: string;
  readonly metadata: SparkMetadata;
  readonly params: ParamReader;
  /** All rows of the stage's `data/` parquet files (every part file, in name order). */
  readData(subdir?: string): Promise<Record<string, unknown>[]>;
  /** Loads a nested saved object (a PipelineModel stage inside a pipeline). */
  loadNested(dir: string): Promise<Stage[]>;
}

export type StageFactory = (ctx: StageContext) => Stage | Promise<Stage>;
