/**
 * The two model-server REST shapes the RemoteModel stage speaks, as pure functions:
 * where to POST, what body to send for a block of rows, and how to read per-row outputs
 * back. TensorFlow Serving REST predict API (row `instances` / columnar `inputs`
 * requests; `predictions` / `outputs` replies) and the KServe Open Inference Protocol v2
 * (`inputs`/`outputs` tensors with name, shape, datatype and flat row-major data).
 */

export interface RemoteParams {
  readonly protocol: 'tfserving' | 'kserve-v2';
  readonly url: string;
  readonly model: string;
  readonly version?: string | number;
  readonly signatureName?: string;
  readonly inputCols?: string[];
  readonly featuresCol?: string;
  readonly inputLayout: 'tensor' | 'columns';
  readonly inputName?: string;
  readonly datatype: 'FP32' | 'FP64';
  readonly requestFormat: 'instances' | 'inputs';
  readonly predictionOutput?: string;
  readonly probabilityOutput?: string;
  readonly predictionCol: string;
  readonly probabilityCol?: string;
  readonly headers?: Record<string, string>;
  readonly timeoutMs: number;
  readonly maxBatchSize: number;
  readonly maxConcurrency: number;
  readonly retries: number;
  readonly retryBackoffMs: number;
}

/** One request's rows: one row-major numeric tensor, or one array per named column. */
export type RequestFeatures =
  | { readonly layout: 'tensor'; readonly rows: number; readonly width: number; readonly data: Float64Array }
  | { readonly layout: 'columns'; readonly rows: number; readonly columns: readonly RequestColumn[] };

export interface RequestColumn {
  readonly name: string;
  readonly kind: 'number' | 'string' | 'boolean';
  readonly values: readonly (number | string | boolean)[];
}

/** A reply that does not have the shape the protocol promises. */
export class ReplyError extends Error {}

/** Default KServe input tensor name (what KServe's own servers name a single input). */
const KSERVE_DEFAULT_INPUT = 'input-0';

export function endpoint(p: RemoteParams): string {
  const base = p.url.replace(/\/+$/, '');
  const model = encodeURIComponent(p.model);
  const version = p.version === undefined ? '' : `/versions/${encodeURIComponent(String(p.version))}`;
  return p.protocol === 'tfserving' ? `${base}/v1/models/${model}${version}:predict` : `${base}/v2/models/${model}${version}/infer`;
}

export function requestBody(p: RemoteParams, f: RequestFeatures): string {
  return JSON.stringify(p.protocol === 'tfserving' ? tfServingRequest(p, f) : kserveRequest(p, f));
}

function tfServingRequest(p: RemoteParams, f: RequestFeatures): Record<string, unknown> {
  const body: Record<string, unknown> = p.signatureName ? { signature_name: p.signatureName } : {};
  if (p.requestFormat === 'instances') {
    if (f.layout === 'tensor') {
      const rows = tensorRows(f);
      body.instances = p.inputName ? rows.map((r) => ({ [p.inputName!]: r })) : rows;
    } else {
      body.instances = Array.from({ length: f.rows }, (_, i) => Object.fromEntries(f.columns.map((c) => [c.name, c.values[i]])));
    }
  } else if (f.layout === 'tensor') {
    body.inputs = p.inputName ? { [p.inputName]: tensorRows(f) } : tensorRows(f);
  } else {
    body.inputs = Object.fromEntries(f.columns.map((c) => [c.name, c.values]));
  }
  return body;
}

function kserveRequest(p: RemoteParams, f: RequestFeatures): Record<string, unknown> {
  const inputs =
    f.layout === 'tensor'
      ? [{ name: p.inputName ?? KSERVE_DEFAULT_INPUT, shape: [f.rows, f.width], datatype: p.datatype, data: Array.from(f.data) }]
      : f.columns.map((c) => ({ name: c.name, shape: [f.rows], datatype: c.kind === 'number' ? p.datatype : c.kind === 'string' ? 'BYTES' : 'BOOL', data: c.values }));
  const wanted = [p.predictionOutput, p.probabilityOutput].filter((n): n is string => n !== undefined);
  return wanted.length ? { inputs, outputs: wanted.map((name) => ({ name })) } : { inputs };
}

function tensorRows(f: Extract<RequestFeatures, { layout: 'tensor' }>): number[][] {
  const rows = new Array<number[]>(f.rows);
  for (let i = 0; i < f.rows; i++) rows[i] = Array.from(f.data.subarray(i * f.width, (i + 1) * f.width));
  return rows;
}

/**
 * Per-row values of every output in the reply, in reply order; the unnamed single output
 * of a TF Serving model is named "". A per-row value is a scalar, or an array when the
 * output has more than one element per row.
 */
export function parseReply(p: RemoteParams, body: unknown, rows: number): Map<string, unknown[]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ReplyError('reply is not a JSON object');
  return p.protocol === 'tfserving' ? tfServingReply(body as Record<string, unknown>, rows) : kserveReply(body as Record<string, unknown>, rows);
}

function tfServingReply(body: Record<string, unknown>, rows: number): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  if ('predictions' in body) {
    const predictions = body.predictions;
    if (!Array.isArray(predictions)) throw new ReplyError('"predictions" is not an array');
    checkRows('predictions', predictions.length, rows);
    if (predictions.length > 0 && isPlainObject(predictions[0])) {
      for (const name of Object.keys(predictions[0] as object)) {
        out.set(name, predictions.map((row, i) => {
          if (!isPlainObject(row) || !(name in row)) throw new ReplyError(`prediction ${i} has no output "${name}"`);
          return row[name];
        }));
      }
    } else {
      out.set('', predictions);
    }
    return out;
  }
  if ('outputs' in body) {
    const outputs = body.outputs;
    if (Array.isArray(outputs)) {
      checkRows('outputs', outputs.length, rows);
      out.set('', outputs);
    } else if (isPlainObject(outputs)) {
      for (const [name, values] of Object.entries(outputs)) {
        if (!Array.isArray(values)) throw new ReplyError(`output "${name}" is not an array`);
        checkRows(`output "${name}"`, values.length, rows);
        out.set(name, values);
      }
    } else {
      throw new ReplyError('"outputs" is neither an array nor an object');
    }
    return out;
  }
  throw new ReplyError('reply has neither "predictions" nor "outputs"');
}

function kserveReply(body: Record<string, unknown>, rows: number): Map<string, unknown[]> {
  const outputs = body.outputs;
  if (!Array.isArray(outputs)) throw new ReplyError('"outputs" is not an array');
  const out = new Map<string, unknown[]>();
  for (const o of outputs) {
    if (!isPlainObject(o) || typeof o.name !== 'string') throw new ReplyError('an output has no name');
    const shape = o.shape;
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ReplyError(`output "${o.name}" has no valid shape`);
    }
    checkRows(`output "${o.name}"`, shape[0] as number, rows);
    const width = (shape as number[]).slice(1).reduce((a, b) => a * b, 1);
    if (!Array.isArray(o.data)) throw new ReplyError(`output "${o.name}" has no data array`);
    const data = (o.data as unknown[]).flat(Infinity);
    if (data.length !== rows * width) throw new ReplyError(`output "${o.name}" has ${data.length} values for shape [${shape.join(', ')}]`);
    const perRow = new Array<unknown>(rows);
    for (let i = 0; i < rows; i++) perRow[i] = width === 1 ? data[i] : data.slice(i * width, (i + 1) * width);
    out.set(o.name, perRow);
  }
  return out;
}

function checkRows(what: string, got: number, rows: number): void {
  if (got !== rows) throw new ReplyError(`${what} has ${got} rows for ${rows} sent`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The output a param names, or the first in the reply. */
export function pickOutput(outputs: Map<string, unknown[]>, name: string | undefined): unknown[] {
  if (name === undefined) {
    const first = outputs.values().next();
    if (first.done) throw new ReplyError('reply has no outputs');
    return first.value;
  }
  const values = outputs.get(name);
  if (!values) throw new ReplyError(`reply has no output "${name}" (has: ${[...outputs.keys()].map((k) => k || '(unnamed)').join(', ')})`);
  return values;
}
