import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ErrorCodes } from '../errors.js';
import { lazy } from '../lazy.js';
import { PackageError } from '../packages/errors.js';
import { argmax, PipelineError, toDense, type Column, type Frame } from '../pipeline/frame.js';
import type { ModelOutputs, Stage, StageContext, StageFactory } from '../pipeline/stage.js';
import { hostRefusal, LOOPBACK_HOSTS } from './remote-hosts.js';
import { endpoint, parseReply, pickOutput, ReplyError, requestBody, type RemoteParams, type RequestColumn, type RequestFeatures } from './remote-protocols.js';
import paramsSchema from '../../schemas/remote-stage.schema.json' with { type: 'json' };

export const REMOTE_MODEL_CLASS = 'mlstream.RemoteModel';

/** Statuses worth another try: the server is busy, restarting, or behind a struggling proxy. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_BACKOFF_MS = 30_000;
const ERROR_TEXT_MAX = 300;

// Compiled on first use: most runtimes never load a stage of this kind.
const validateParamsFn = lazy(() => new Ajv({ allErrors: true, useDefaults: true, strict: false, validateSchema: false }).compile(paramsSchema));

type CallResult = { readonly outputs: Map<string, unknown[]> } | { readonly failure: string };

/**
 * A model that lives in a model server: each micro-batch is split into requests of at
 * most maxBatchSize rows, sent with at most maxConcurrency in flight, each with its own
 * timeout and retries. Rows of a request that finally failed are rejected with
 * REMOTE_ERROR and the reason (status and the server's error text), never dropped.
 */
export class RemoteModel implements Stage {
  readonly className = REMOTE_MODEL_CLASS;
  readonly inputCols: readonly string[];
  readonly outputCols: readonly string[];
  readonly modelOutputs: ModelOutputs;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  /** Fired by dispose(): requests in flight are aborted, so a refused or retired version holds no sockets. */
  private readonly closing = new AbortController();

  constructor(
    readonly uid: string,
    private readonly params: RemoteParams,
  ) {
    this.inputCols = params.featuresCol ? [params.featuresCol] : params.inputCols!;
    this.outputCols = [params.predictionCol, ...(params.probabilityCol ? [params.probabilityCol] : [])];
    this.modelOutputs = { predictionCol: params.predictionCol, ...(params.probabilityCol ? { probabilityCol: params.probabilityCol } : {}) };
    this.url = endpoint(params);
    this.headers = { 'content-type': 'application/json', accept: 'application/json', ...params.headers };
    // One 'abort' listener per request in flight (removed when it ends): slices of several
    // partitions at once, each with its requests, pass Node's default warning threshold of 10
    // without any leak, and the warning would be printed on stderr among the JSON logs.
    setMaxListeners(0, this.closing.signal);
  }

  dispose(): void {
    this.closing.abort();
  }

  async transform(frame: Frame): Promise<void> {
    const n = frame.length;
    const predictions = new Float64Array(n).fill(NaN);
    const probabilities = new Array<Float64Array | null>(n).fill(null);
    const sendable = this.rowsWithValues(frame);
    const blocks: Int32Array[] = [];
    for (let k = 0; k < sendable.length; k += this.params.maxBatchSize) blocks.push(sendable.subarray(k, k + this.params.maxBatchSize));

    await forEachLimited(blocks, this.params.maxConcurrency, async (rows) => {
      const result = await this.call(requestBody(this.params, this.features(frame, rows)), rows.length);
      if ('failure' in result) {
        for (const i of rows) frame.reject(i, ErrorCodes.REMOTE_ERROR, result.failure, this.uid);
        return;
      }
      try {
        this.readOutputs(frame, rows, result.outputs, predictions, probabilities);
      } catch (e) {
        if (!(e instanceof ReplyError)) throw e;
        for (const i of rows) frame.reject(i, ErrorCodes.REMOTE_ERROR, `unexpected reply from ${this.url}: ${e.message}`, this.uid);
      }
    });

    frame.set(this.params.predictionCol, { type: 'double', values: predictions });
    if (this.params.probabilityCol) {
      const size = probabilities.find((p) => p !== null)?.length ?? 0;
      frame.set(this.params.probabilityCol, { type: 'vector', size, values: probabilities });
    }
  }

  /** Live rows whose every feature has a value; the others are rejected here (a server would refuse the whole request). */
  private rowsWithValues(frame: Frame): Int32Array {
    const ok: number[] = [];
    const columns = this.inputCols.map((name) => [name, frame.get(name)] as const);
    for (let i = 0; i < frame.length; i++) {
      const missing = columns.find(([, col]) => isMissing(col, i));
      if (missing) frame.reject(i, ErrorCodes.PIPELINE_ERROR, `"${missing[0]}" has no value; the remote model needs every feature`, this.uid);
      else ok.push(i);
    }
    return Int32Array.from(ok);
  }

  private features(frame: Frame, rows: Int32Array): RequestFeatures {
    const p = this.params;
    if (p.featuresCol) {
      const col = frame.getTyped(p.featuresCol, 'vector');
      const dense = Array.from(rows, (i) => toDense(col.values[i]!));
      const width = dense[0]!.length;
      const data = new Float64Array(rows.length * width);
      dense.forEach((v, r) => {
        if (v.length !== width) throw new PipelineError(`"${p.featuresCol}" holds vectors of sizes ${width} and ${v.length}`);
        data.set(v, r * width);
      });
      return { layout: 'tensor', rows: rows.length, width, data };
    }
    const cols = p.inputCols!;
    if (p.inputLayout === 'tensor') {
      const width = cols.length;
      const data = new Float64Array(rows.length * width);
      cols.forEach((name, c) => {
        const values = frame.getTyped(name, 'double').values;
        for (let r = 0; r < rows.length; r++) data[r * width + c] = values[rows[r]!]!;
      });
      return { layout: 'tensor', rows: rows.length, width, data };
    }
    return { layout: 'columns', rows: rows.length, columns: cols.map((name) => requestColumn(name, frame.get(name), rows)) };
  }

  private readOutputs(frame: Frame, rows: Int32Array, outputs: Map<string, unknown[]>, predictions: Float64Array, probabilities: (Float64Array | null)[]): void {
    const predicted = pickOutput(outputs, this.params.predictionOutput);
    const probOut = this.params.probabilityOutput !== undefined ? pickOutput(outputs, this.params.probabilityOutput) : undefined;
    rows.forEach((i, r) => {
      const value = predicted[r];
      const scores = numberArray(value);
      const prediction = scores ? argmax(scores) : toNumber(value);
      if (prediction === undefined) {
        frame.reject(i, ErrorCodes.REMOTE_ERROR, `the server's prediction ${JSON.stringify(value)?.slice(0, 80)} is not a number or a vector of scores`, this.uid);
        return;
      }
      predictions[i] = prediction;
      if (!this.params.probabilityCol) return;
      const probs = probOut ? numberArray(probOut[r]) : scores;
      if (!probs) {
        frame.reject(i, ErrorCodes.REMOTE_ERROR, `the server's probabilities for this row are not a vector of numbers`, this.uid);
        return;
      }
      probabilities[i] = probs;
    });
  }

  /** One request with its retries; never throws. */
  private async call(body: string, rows: number): Promise<CallResult> {
    const { retries, timeoutMs } = this.params;
    let failure = '';
    let attempt = 0;
    for (; ; attempt++) {
      if (this.closing.signal.aborted) return { failure: `the stage was released before ${this.url} answered` };
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      const onClose = (): void => controller.abort();
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      let retryable = true;
      let retryAfterMs: number | undefined;
      try {
        // A redirect could lead to a host REMOTE_ALLOWED_HOSTS does not allow.
        const res = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal: controller.signal, redirect: 'error' });
        const text = await res.text();
        if (res.ok) return this.parse(text, rows);
        failure = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}: ${errorText(text)}`;
        retryable = RETRYABLE_STATUS.has(res.status);
        retryAfterMs = retryAfter(res.headers.get('retry-after'));
      } catch (e) {
        failure = timedOut ? `timed out after ${timeoutMs} ms` : `connection failed: ${connectionError(e)}`;
      } finally {
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
      }
      if (!retryable || attempt >= retries) break;
      await sleep(retryAfterMs ?? backoff(this.params.retryBackoffMs, attempt), this.closing.signal);
    }
    const attempts = attempt + 1;
    return { failure: `${failure} (${this.url}${attempts > 1 ? `, ${attempts} attempts` : ''})` };
  }

  private parse(text: string, rows: number): CallResult {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { failure: `the reply from ${this.url} is not JSON: ${text.slice(0, 80)}` };
    }
    try {
      return { outputs: parseReply(this.params, json, rows) };
    } catch (e) {
      if (e instanceof ReplyError) return { failure: `unexpected reply from ${this.url}: ${e.message}` };
      throw e;
    }
  }
}

function requestColumn(name: string, col: Column, rows: Int32Array): RequestColumn {
  switch (col.type) {
    case 'double':
      return { name, kind: 'number', values: Array.from(rows, (i) => col.values[i]!) };
    case 'string':
      return { name, kind: 'string', values: Array.from(rows, (i) => col.values[i]!) };
    case 'boolean':
      return { name, kind: 'boolean', values: Array.from(rows, (i) => col.values[i]!) };
    default:
      throw new PipelineError(`column "${name}" is ${col.type}; the columns layout sends numbers, strings or booleans`);
  }
}

function isMissing(col: Column, i: number): boolean {
  switch (col.type) {
    case 'double':
      return col.nulls?.[i] === 1 || Number.isNaN(col.values[i]);
    default:
      return col.values[i] === null;
  }
}

function numberArray(v: unknown): Float64Array | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const flat = v.flat(Infinity);
  if (!flat.every((x) => typeof x === 'number')) return undefined;
  return Float64Array.from(flat as number[]);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** TF Serving and KServe both answer errors as {"error": "..."}. */
function errorText(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error.slice(0, ERROR_TEXT_MAX);
  } catch {
    // not JSON: show the text itself
  }
  return text.trim().slice(0, ERROR_TEXT_MAX) || '(empty body)';
}

function connectionError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_BACKOFF_MS) : undefined;
}

/** Exponential with "equal jitter": half fixed, half random, so retrying clients spread out. */
function backoff(baseMs: number, attempt: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Waits `ms`, or less when `signal` fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function readParams(ctx: StageContext, allowedHosts: readonly string[]): RemoteParams {
  const params: Record<string, unknown> = { ...ctx.metadata.defaultParamMap, ...ctx.metadata.paramMap };
  const validateParams = validateParamsFn();
  if (!validateParams(params)) {
    const why = (validateParams.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new PackageError(`${REMOTE_MODEL_CLASS} params do not match schemas/remote-stage.schema.json: ${why}`, join(ctx.dir, 'metadata'));
  }
  const p = params as unknown as RemoteParams;
  const refusal = hostRefusal(p.url, allowedHosts);
  if (refusal) throw new PackageError(`${REMOTE_MODEL_CLASS}: ${refusal}`, join(ctx.dir, 'metadata'));
  return p.probabilityOutput !== undefined && p.probabilityCol === undefined ? { ...p, probabilityCol: 'probability' } : p;
}

/** The remote stage classes, calling only `allowedHosts` (default: loopback). */
export function remoteStageFactories(allowedHosts: readonly string[] = LOOPBACK_HOSTS): Record<string, StageFactory> {
  return { [REMOTE_MODEL_CLASS]: (ctx) => new RemoteModel(ctx.metadata.uid, readParams(ctx, allowedHosts)) };
}

export const remoteStages: Record<string, StageFactory> = remoteStageFactories();
