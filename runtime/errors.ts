/**
 * Every error code the runtime writes to the errors topic. The errors topic, logs, metrics
 * and the README all use these names; add a code here, never inline.
 */
export const ErrorCodes = {
  /** The message value is not valid JSON (or not UTF-8, or not a tf.train.Example). */
  DECODE_ERROR: 'DECODE_ERROR',
  /** The record does not match the package's input schema (AJV details attached). */
  SCHEMA_VIOLATION: 'SCHEMA_VIOLATION',
  /** A stage failed on this record, or on the whole batch. */
  PIPELINE_ERROR: 'PIPELINE_ERROR',
  /** A stage with handleInvalid=skip dropped this record, as Spark would drop the row. */
  ROW_SKIPPED: 'ROW_SKIPPED',
  /** No model package is loaded to serve the record. */
  NO_MODEL: 'NO_MODEL',
  /** A remote model server failed, timed out or answered wrongly for this record. */
  REMOTE_ERROR: 'REMOTE_ERROR',
  /** The message is larger than the configured limit. */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  /** An ALSModel saved with coldStartStrategy=drop has no factors for the record's user or item; Spark would drop the row. */
  COLD_START: 'COLD_START',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
