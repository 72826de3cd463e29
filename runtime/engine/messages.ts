import type { ErrorCode } from '../errors.js';

/** A record as it came off the input topic. */
export interface InputMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Broker or producer timestamp, ms since epoch, as text (kafkajs gives strings). */
  readonly timestamp?: string;
  /** Kafka headers as the client gave them; routing reads `mlstream-model`. */
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

/** One message to write: to predictions, errors, a package's own topics or a shadow topic. */
export interface OutputMessage {
  readonly topic: string;
  /** The input's position in its slice: outputs are written in input order. */
  readonly position: number;
  readonly key: Buffer | null;
  readonly value: string;
  readonly headers: Record<string, string>;
}

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: unknown;
  readonly stage?: string;
}

/** Headers every output carries, so consumers can spot duplicates after a crash. */
export const HEADER_SOURCE = 'mlstream-source';
/** On outputs: the `name@version` that served the record. On inputs: the package (`name` or `name@version`) to route it to. */
export const HEADER_MODEL = 'mlstream-model';
/** The input record's timestamp (ms since epoch), so a reader can tell each output's end-to-end latency. */
export const HEADER_SOURCE_TIMESTAMP = 'mlstream-source-timestamp';

/** A prediction as data, for sinks (PostgreSQL) and the dashboard. */
export interface PredictionRecord {
  readonly id: unknown;
  readonly prediction: unknown;
  /** The model's number before output_labels mapped it (Spark's double); null for NaN or a non-number prediction (FPGrowth's items, LDA's topic distribution). */
  readonly rawPrediction: number | null;
  readonly probability?: Record<string, number>;
  readonly body: Record<string, unknown>;
  readonly input: Record<string, unknown>;
  readonly model: string;
  readonly version: string;
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string };
  readonly timestamp?: string;
}

/** What one processed slice looked like, for metrics and the dashboard. */
export interface BatchStats {
  readonly inputs: number;
  readonly predictions: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly pipelineMs: number;
  readonly stageMs: ReadonlyMap<string, number>;
  /** The default package's `name@version` when it served the slice alone (per-version figures are in `versions`). */
  readonly model?: string;
  /** Per served version (`name@version`): what it did with its share of the slice. */
  readonly versions: ReadonlyMap<string, VersionStats>;
}

export type ServingRole = 'primary' | 'canary' | 'shadow' | 'pinned';

export interface VersionStats {
  readonly name: string;
  readonly version: string;
  readonly role: ServingRole;
  readonly records: number;
  readonly predictions: number;
  readonly errors: number;
  readonly pipelineMs: number;
  readonly stageMs: ReadonlyMap<string, number>;
}
