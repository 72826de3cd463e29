import { decoderFor, type Decoded, type Decoder } from '../codecs/index.js';
import { ErrorCodes, type ErrorCode } from '../errors.js';
import type { ModelVersion } from '../packages/package.js';
import { describeErrors } from '../packages/validator.js';
import { buildFrame } from '../pipeline/input-schema.js';
import type { Frame } from '../pipeline/frame.js';
import type { ErrorRecordLimits } from './error-record.js';
import { errorOutput, failure, predictionHeaders } from './failures.js';
import type { ErrorBody, InputMessage, OutputMessage, PredictionRecord } from './messages.js';
import { readPredictions } from './outputs.js';
import { plainKey, readJsonTextRecord, type JsonTextReader } from '../codecs/json-text-record.js';
import { jsonTextReaderOf } from '../stages/spark/fused-text.js';
import type { Vector } from '../pipeline/frame.js';

export interface BatchLimits extends ErrorRecordLimits {
  readonly maxMessageBytes: number;
}

/** Where one run's outputs go: the package's topics, or the shadow topic for both. */
export interface OutputTopics {
  readonly predictions: string;
  readonly errors: string;
}

/**
 * What one plan made of its records: outputs tagged with each record's position in the slice.
 * Every prediction goes to the run's predictions topic and every error to its errors topic,
 * each with its input's key and `predictionHeaders(input, tag)`: the worker pool relies on
 * that to send back only each output's value (pool-protocol.ts).
 */
export interface PlanRun {
  readonly predictions: OutputMessage[];
  readonly errors: OutputMessage[];
  readonly records: PredictionRecord[];
  readonly errorsByCode: Record<string, number>;
  readonly pipelineMs: number;
  readonly stageMs: Map<string, number>;
}

/**
 * Everything a package version needs on the hot path, chosen once when the version loads:
 * its decoder (JSON or tf.train.Example), its validator, its stages and how its outputs
 * are read (a model's prediction or a feature-only package's last column). Running a plan
 * has no branching on package kind.
 */
export interface ServingPlan {
  readonly model: ModelVersion;
  /** `name@version`, in every output's header and error record. */
  readonly tag: string;
  /**
   * `wantRecords` false leaves `records` empty: the prediction records (with each input's
   * declared columns copied out) are for the sink and the dashboard, and building them
   * for nobody cost every record an object or two.
   */
  run(messages: readonly InputMessage[], positions: readonly number[], topics: OutputTopics, limits: BatchLimits, wantRecords?: boolean): Promise<PlanRun>;
}

const plans = new WeakMap<ModelVersion, ServingPlan>();

/** The plan of a loaded version, built on first use and kept as long as the version. */
export function planFor(model: ModelVersion): ServingPlan {
  let plan = plans.get(model);
  if (!plan) {
    plan = buildPlan(model);
    plans.set(model, plan);
  }
  return plan;
}

/**
 * Where a package is one text column into a fused text chain that reads JSON bytes (its first
 * stage), records of the plain shape are read without decoding (codecs/json-text-record.ts):
 * the text's vector is computed from the message's bytes while it is read, and the stage
 * takes it from the frame instead of computing it again. Only when nothing else reads the
 * column: no later stage, no prediction record (the sink and the dashboard copy the input).
 */
interface JsonTextPath {
  readonly reader: JsonTextReader;
  readonly key: readonly number[];
}

function jsonTextPath(model: ModelVersion): JsonTextPath | undefined {
  const [field] = model.fields;
  if (model.config.input_format === 'tf-example' || model.fields.length !== 1 || field!.type !== 'STRING' || field!.name === 'id') return undefined;
  const [first, ...rest] = model.pipeline.executed;
  const reader = jsonTextReaderOf(first);
  const key = plainKey(field!.name);
  if (!reader || !key || reader.column !== field!.name || rest.some((s) => s.inputCols.includes(field!.name))) return undefined;
  return { reader, key };
}

function buildPlan(model: ModelVersion): ServingPlan {
  const tag = `${model.name}@${model.version}`;
  const decoder = decoderFor(model.config.input_format, model.fields);
  const direct = jsonTextPath(model);
  const rawPredictionCol = model.pipeline.outputs?.predictionCol;
  // Most models predict a double; some predict an array (FPGrowth's items, LDA's topics), which has no raw number.
  const rawPredictions = (frame: Frame): ArrayLike<number> | undefined => {
    const col = rawPredictionCol === undefined ? undefined : frame.get(rawPredictionCol);
    return col?.type === 'double' ? col.values : undefined;
  };
  return {
    model,
    tag,
    async run(messages, positions, topics, limits, wantRecords = true) {
      const out: PlanRun = { predictions: [], errors: [], records: [], errorsByCode: {}, pipelineMs: 0, stageMs: new Map() };
      const fail = (m: InputMessage, position: number, id: unknown, error: ErrorBody): void => {
        out.errorsByCode[error.code] = (out.errorsByCode[error.code] ?? 0) + 1;
        out.errors.push(errorOutput(m, position, topics.errors, id, error, tag, limits));
      };
      const valid: Record<string, unknown>[] = [];
      const validAt: number[] = [];
      // The JSON text path's vectors, by row of `valid` (a hole: the stage computes it).
      const presets: (Vector | undefined)[] = [];
      const reader = direct && !wantRecords ? direct.reader : undefined;
      messages.forEach((m, i) => {
        if (reader && m.value !== null && m.value.length <= limits.maxMessageBytes) {
          const id = readJsonTextRecord(m.value, direct!.key, reader);
          if (id !== undefined) {
            presets[valid.length] = reader.finish();
            // The column's value is never read (jsonTextPath): the stage takes the preset vector.
            valid.push({ id, [reader.column]: '' });
            validAt.push(i);
            return;
          }
        }
        const decoded = decode(m, limits.maxMessageBytes, decoder);
        if ('error' in decoded) return fail(m, positions[i]!, undefined, decoded.error);
        if (!(model.validate(decoded.record) as boolean)) {
          const { message, details } = describeErrors(model.validate.errors);
          return fail(m, positions[i]!, decoded.record.id, { code: ErrorCodes.SCHEMA_VIOLATION, message, details });
        }
        valid.push(decoded.record);
        validAt.push(i);
      });
      if (valid.length === 0) return out;

      const started = performance.now();
      let frame: Frame;
      try {
        const input = buildFrame(valid, model.fields);
        if (presets.length > 0) input.presets = new Map([[reader!.output, presets]]);
        frame = await model.pipeline.run(input, out.stageMs);
      } catch (e) {
        const error = failure(e, 'pipeline failed on this batch');
        validAt.forEach((i, row) => fail(messages[i]!, positions[i]!, valid[row]!.id, error));
        return out;
      } finally {
        (out as { pipelineMs: number }).pipelineMs = performance.now() - started;
      }
      for (const r of frame.rejections) {
        const i = validAt[r.row]!;
        fail(messages[i]!, positions[i]!, valid[r.row]!.id, { code: r.code as ErrorCode, message: r.message, ...(r.stage ? { stage: r.stage } : {}) });
      }
      const bodies = readPredictions(frame, model);
      const raw = rawPredictions(frame);
      for (let k = 0; k < frame.length; k++) {
        const row = frame.rowIds[k]!;
        const i = validAt[row]!;
        const m = messages[i]!;
        const input = valid[row]!;
        const body = { id: input.id, ...bodies[k], model: model.name, version: model.version };
        out.predictions.push({ topic: topics.predictions, position: positions[i]!, key: m.key, value: JSON.stringify(body), headers: predictionHeaders(m, tag) });
        if (!wantRecords) continue;
        const rawValue = raw?.[k];
        out.records.push({
          id: input.id,
          prediction: body.prediction,
          rawPrediction: rawValue === undefined || Number.isNaN(rawValue) ? null : rawValue,
          ...(body.probability ? { probability: body.probability } : {}),
          body,
          input: declaredInput(input, model),
          model: model.name,
          version: model.version,
          source: { topic: m.topic, partition: m.partition, offset: m.offset },
          ...(m.timestamp ? { timestamp: m.timestamp } : {}),
        });
      }
      return out;
    },
  };
}

/**
 * The record as the model saw it: the id and the declared columns. Undeclared fields may be
 * anything a producer sent (nested 100 000 deep, megabytes long) and would break whoever
 * serialises the record downstream (the sink, the dashboard), so they stay out.
 */
function declaredInput(record: Record<string, unknown>, model: ModelVersion): Record<string, unknown> {
  return Object.fromEntries([['id', record.id], ...model.fields.map((f) => [f.name, record[f.name]] as const)]);
}

function decode(m: InputMessage, maxBytes: number, decoder: Decoder): Decoded {
  if (m.value === null || m.value.length === 0) return { error: { code: ErrorCodes.DECODE_ERROR, message: 'empty message value' } };
  if (m.value.length > maxBytes) {
    return { error: { code: ErrorCodes.MESSAGE_TOO_LARGE, message: `message is ${m.value.length} bytes; the limit is ${maxBytes}` } };
  }
  return decoder(m.value);
}
