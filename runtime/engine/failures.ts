import { ErrorCodes } from '../errors.js';
import { StageFailure } from '../pipeline/pipeline.js';
import { HEADER_MODEL, HEADER_SOURCE, HEADER_SOURCE_TIMESTAMP, type ErrorBody, type InputMessage, type OutputMessage } from './messages.js';

/**
 * The one home of "fail this record" helpers: how an error record looks, and how anything
 * thrown on the record path becomes a PIPELINE_ERROR naming the stage it came from.
 */

/** Headers every output carries: its source coordinates and timestamp and, when known, the model `name@version`. */
export function predictionHeaders(m: InputMessage, modelTag: string): Record<string, string> {
  const h: Record<string, string> = { [HEADER_SOURCE]: `${m.topic}/${m.partition}/${m.offset}` };
  if (modelTag) h[HEADER_MODEL] = modelTag;
  if (m.timestamp) h[HEADER_SOURCE_TIMESTAMP] = m.timestamp;
  return h;
}

/** A throw on the record path as the error body of the records it concerns. */
export function failure(e: unknown, context: string): ErrorBody {
  const reason = e instanceof Error ? e.message : String(e);
  return {
    code: ErrorCodes.PIPELINE_ERROR,
    message: `${context}: ${reason}`,
    ...(e instanceof StageFailure ? { stage: e.stage } : {}),
  };
}

export function errorOutput(m: InputMessage, position: number, topic: string, id: unknown, error: ErrorBody, modelTag: string, rawMax: number): OutputMessage {
  const knownId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
  const raw = m.value ? m.value.subarray(0, rawMax).toString('utf8') : null;
  const body = {
    id: knownId,
    error,
    source: { topic: m.topic, partition: m.partition, offset: m.offset },
    ...(modelTag ? { model: modelTag } : {}),
    raw,
    ...(m.value && m.value.length > rawMax ? { rawTruncated: true, rawBytes: m.value.length } : {}),
  };
  return { topic, position, key: m.key, value: JSON.stringify(body), headers: predictionHeaders(m, modelTag) };
}
