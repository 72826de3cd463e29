import { ErrorCodes, type ErrorCode } from '../errors.js';
import type { ModelVersion } from '../packages/package.js';
import { buildFrame } from '../pipeline/input-schema.js';
import { describeErrors } from '../packages/validator.js';
import { HEADER_MODEL, HEADER_SOURCE, type BatchStats, type ErrorBody, type InputMessage, type OutputMessage, type PredictionRecord } from './messages.js';
import { readPredictions } from './outputs.js';
import { decoderFor, decodeJson, type Decoded, type Decoder } from '../codecs/index.js';
import { errorRecordValue } from './error-record.js';

export interface BatchLimits {
  readonly maxMessageBytes: number;
  readonly errorRawMaxBytes: number;
  readonly errorRecordMaxBytes?: number;
}

export interface BatchResult {
  readonly predictions: OutputMessage[];
  readonly errors: OutputMessage[];
  /** The predictions again, as data, in the same order. */
  readonly records: PredictionRecord[];
  readonly stats: BatchStats;
}

/**
 * One micro-batch, from raw Kafka messages to the messages to write: every input yields
 * exactly one output, a prediction or an error. Knows nothing of Kafka clients.
 */
export async function processBatch(messages: readonly InputMessage[], model: ModelVersion | undefined, limits: BatchLimits): Promise<BatchResult> {
  const predictions: OutputMessage[] = [];
  const errors: OutputMessage[] = [];
  const records: PredictionRecord[] = [];
  const errorsByCode: Record<string, number> = {};
  const stageMs = new Map<string, number>();
  let pipelineMs = 0;
  const modelTag = model ? `${model.name}@${model.version}` : '';
  const fail = (m: InputMessage, id: unknown, error: ErrorBody): void => {
    errorsByCode[error.code] = (errorsByCode[error.code] ?? 0) + 1;
    errors.push(errorMessage(m, id, error, modelTag, limits));
  };
  const result = (): BatchResult => ({
    predictions,
    errors,
    records,
    stats: { inputs: messages.length, predictions: predictions.length, errorsByCode, pipelineMs, stageMs, ...(model ? { model: modelTag } : {}) },
  });

  const decoder = model ? decoderFor(model.config.input_format, model.fields) : decodeJson;
  const valid: Record<string, unknown>[] = [];
  const validMsgs: InputMessage[] = [];
  for (const m of messages) {
    const decoded = decode(m, limits.maxMessageBytes, decoder);
    if ('error' in decoded) {
      fail(m, undefined, decoded.error);
      continue;
    }
    const record = decoded.record;
    if (!model) {
      fail(m, record.id, { code: ErrorCodes.NO_MODEL, message: 'no model package is loaded' });
      continue;
    }
    if (!isValid(model, record)) {
      const { message, details } = describeErrors(model.validate.errors);
      fail(m, record.id, { code: ErrorCodes.SCHEMA_VIOLATION, message, details });
      continue;
    }
    valid.push(record);
    validMsgs.push(m);
  }
  if (!model || valid.length === 0) return result();

  let frame;
  const started = performance.now();
  try {
    frame = await model.pipeline.run(buildFrame(valid, model.fields), stageMs);
  } catch (e) {
    const message = `pipeline failed on this batch: ${(e as Error).message}`;
    validMsgs.forEach((m, i) => fail(m, valid[i]!.id, { code: ErrorCodes.PIPELINE_ERROR, message }));
    return result();
  } finally {
    pipelineMs = performance.now() - started;
  }
  for (const r of frame.rejections) {
    fail(validMsgs[r.row]!, valid[r.row]!.id, { code: r.code as ErrorCode, message: r.message, ...(r.stage ? { stage: r.stage } : {}) });
  }
  const bodies = readPredictions(frame, model);
  const raw = frame.getTyped(model.pipeline.outputs!.predictionCol, 'double').values;
  for (let i = 0; i < frame.length; i++) {
    const row = frame.rowIds[i]!;
    const m = validMsgs[row]!;
    const input = valid[row]!;
    const body = { id: input.id, ...bodies[i], model: model.name, version: model.version };
    predictions.push({ key: m.key, value: JSON.stringify(body), headers: outputHeaders(m, modelTag) });
    records.push({
      id: input.id,
      prediction: body.prediction,
      rawPrediction: Number.isNaN(raw[i]!) ? null : raw[i]!,
      ...(body.probability ? { probability: body.probability } : {}),
      body,
      input: declaredInput(input, model),
      model: model.name,
      version: model.version,
      source: { topic: m.topic, partition: m.partition, offset: m.offset },
      ...(m.timestamp ? { timestamp: m.timestamp } : {}),
    });
  }
  return result();
}

/**
 * The record as the model saw it: the id and the declared columns. Undeclared fields may be
 * anything a producer sent (nested 100 000 deep, megabytes long) and would break whoever
 * serialises the record downstream (the sink, the dashboard), so they stay out.
 */
function declaredInput(record: Record<string, unknown>, model: ModelVersion): Record<string, unknown> {
  return Object.fromEntries([['id', record.id], ...model.fields.map((f) => [f.name, record[f.name]] as const)]);
}

/** Ajv's validate is a type guard; the records stay plain objects either way. */
function isValid(model: ModelVersion, record: Record<string, unknown>): boolean {
  return model.validate(record) as boolean;
}

function decode(m: InputMessage, maxBytes: number, decoder: Decoder): Decoded {
  if (m.value === null || m.value.length === 0) return { error: { code: ErrorCodes.DECODE_ERROR, message: 'empty message value' } };
  if (m.value.length > maxBytes) {
    return { error: { code: ErrorCodes.MESSAGE_TOO_LARGE, message: `message is ${m.value.length} bytes; the limit is ${maxBytes}` } };
  }
  return decoder(m.value);
}

function outputHeaders(m: InputMessage, modelTag: string): Record<string, string> {
  const h: Record<string, string> = { [HEADER_SOURCE]: `${m.topic}/${m.partition}/${m.offset}` };
  if (modelTag) h[HEADER_MODEL] = modelTag;
  return h;
}

function errorMessage(m: InputMessage, id: unknown, error: ErrorBody, modelTag: string, limits: BatchLimits): OutputMessage {
  return { key: m.key, value: errorRecordValue(m, id, error, modelTag, limits), headers: outputHeaders(m, modelTag) };
}
