import type { PredictionBody } from '../../runtime/engine/outputs.js';
import type { PackageConfig } from '../../runtime/packages/package.js';

/** A row a stage dropped or failed, with the error code the runtime would write. */
export interface Rejection {
  readonly rejected: string;
  readonly message: string;
}

export type Outcome = PredictionBody | Rejection;

export function isRejection(o: Outcome | undefined): o is Rejection {
  return o !== undefined && 'rejected' in o;
}

/** How sample rows from a CSV become records. */
export interface SampleSpec {
  /** Path under the fixtures folder (a sample may be shared between fixtures). */
  readonly file: string;
  readonly header?: readonly string[];
  readonly multiLine?: boolean;
  /** Input column → CSV column. */
  readonly columns: Readonly<Record<string, string>>;
  /** CSV column holding the true label, for an accuracy figure. */
  readonly label?: string;
  /** The label column holds raw class indices ("0", "1"), mapped through output_labels. */
  readonly rawLabels?: boolean;
  /** Drops rows whose inputs are all empty (padding lines at the end of a file). */
  readonly dropEmpty?: boolean;
}

export interface SyntheticSpec {
  readonly rows: number;
  readonly record: (i: number) => Record<string, unknown>;
  /** The label a row should get, where one is known (e.g. the model's own training rows). */
  readonly label?: (i: number) => string | undefined;
  /** What Spark output for a row, where it is known from elsewhere (mapped label, probabilities). */
  readonly spark?: (i: number) => { readonly prediction: string; readonly probability: Readonly<Record<string, number>> } | undefined;
}

/** A model-less pipeline (feature stages only): its output column and vector size. */
export interface TransformerSpec {
  readonly output: string;
  readonly size: number;
  /** The vectors Spark output for the first rows, where they are known from elsewhere. */
  readonly spark?: readonly (readonly number[])[];
  /** A separately saved model fed with this pipeline's output (a two-part package). */
  readonly chainTo?: { readonly fixture: string; readonly config: PackageConfig };
}

/** An edge case with no folder of its own: a real fixture, rewritten in a temp copy. */
export interface VariantSpec {
  readonly base: string;
  readonly what: string;
  readonly build: (packageDir: string) => void | Promise<void>;
}

export interface FixtureSpec {
  /** Folder under the fixtures folder; for a variant, a display name. */
  readonly name: string;
  /**
   * config.json. Fixtures with `sample/schema-*.json` and `sample/expected-*.csv` derive it:
   * every column but the target, labels from the target's StringIndexerModel.
   */
  readonly config?: PackageConfig;
  readonly sample?: SampleSpec;
  readonly synthetic?: SyntheticSpec;
  readonly transformer?: TransformerSpec;
  /** loadPackage must refuse the package with a message matching this. */
  readonly refusal?: RegExp;
  /** Lower bound on accuracy, only where it means something (the model's training data). */
  readonly minAccuracy?: number;
  /** Spark's outputs are float32 (ALS): values must be equal once rounded to float32, not within TOLERANCE. */
  readonly float32?: boolean;
  /** Rows that a handleInvalid=skip stage must drop (ROW_SKIPPED); every other row predicts. */
  readonly skippedRows?: number;
  readonly variant?: VariantSpec;
  readonly note?: string;
}

export type Mode = 'spark-outputs' | 'sample' | 'synthetic' | 'transformer' | 'refused' | 'loaded' | 'pending';

export interface FixtureResult {
  readonly name: string;
  readonly mode: Mode;
  readonly sparkVersion: string;
  /** Stages in the saved object, and those active for this input schema. */
  readonly stages: number;
  readonly activeStages: number;
  readonly rows: number;
  /** The column Spark predicted (spark-outputs mode only). */
  readonly target?: string;
  /** Rows whose Spark outputs are known, when not all of them are. */
  readonly sparkRows?: number;
  /** Rows whose outputs equal Spark's. */
  readonly matches?: number;
  readonly maxProbabilityError?: number;
  /** Largest error of a regression value, relative where |value| > 1. */
  readonly maxValueError?: number;
  readonly accuracy?: { readonly correct: number; readonly total: number };
  /** Rows dropped or failed by a stage, by error code. */
  readonly rejected: Readonly<Record<string, number>>;
  /** The refusal message (refused mode), or why a folder was only loaded. */
  readonly message?: string;
  /** Every disagreement with Spark or with the spec, for the test to print. */
  readonly problems: readonly string[];
  /** Per input row: the prediction body, the vector (transformer mode), or the rejection code. */
  readonly outputs: readonly unknown[];
  readonly note?: string;
}
