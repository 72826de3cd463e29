import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServedModel } from './iris-onnx.js';

/**
 * Real HTTP model servers for tests, written from the public API specifications:
 * - TensorFlow Serving REST: `POST /v1/models/<name>[/versions/<v>]:predict` with row
 *   (`instances`) or columnar (`inputs`) requests, answered with `predictions` or
 *   `outputs`; `GET /v1/models/<name>[/versions/<v>]` model status; errors as
 *   `{"error": "..."}`.
 * - KServe Open Inference Protocol v2 REST: `GET /v2/health/live|ready`, `GET /v2`,
 *   `GET /v2/models/<name>[/versions/<v>][/ready]`, `POST .../infer` with typed tensors.
 * Both run a ServedModel (an ONNX graph in onnxruntime) and can be told to fail or stall.
 */

/** A fault applied to requests whose feature rows match `when` (every request if absent). */
export interface Fault {
  readonly status?: number;
  readonly error?: string;
  readonly delayMs?: number;
  readonly retryAfter?: string;
  /** How many matching requests it applies to; absent: all of them. */
  times?: number;
  readonly when?: (rows: number[][]) => boolean;
}

export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly rows: number;
  readonly faulted: boolean;
}

export interface ModelServer {
  readonly url: string;
  readonly requests: ServedRequest[];
  /** Highest number of predict requests handled at the same time. */
  readonly maxInFlight: number;
  inject(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const MODEL_VERSION = '1';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type PredictHandler = (req: IncomingMessage, body: unknown, match: RegExpMatchArray, ctx: RequestContext) => Promise<unknown>;
type GetHandler = (match: RegExpMatchArray) => unknown;

interface RequestContext {
  /** Called once the request's feature rows are known: applies any fault, may throw HttpError. */
  admit(rows: number[][]): Promise<void>;
}

async function startServer(name: string, posts: [RegExp, PredictHandler][], gets: [RegExp, GetHandler][]): Promise<ModelServer> {
  const requests: ServedRequest[] = [];
  let faults: Fault[] = [];
  let inFlight = 0;
  let maxInFlight = 0;

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    let rows = 0;
    let faulted = false;
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      requests.push({ method: req.method ?? '', path, status, rows, faulted });
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const ctx: RequestContext = {
      async admit(featureRows) {
        rows = featureRows.length;
        const fault = faults.find((f) => (f.times === undefined || f.times > 0) && (!f.when || f.when(featureRows)));
        if (!fault) return;
        faulted = true;
        if (fault.times !== undefined) fault.times--;
        if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault.status) {
          const err = new HttpError(fault.status, fault.error ?? `injected failure ${fault.status}`);
          if (fault.retryAfter) (err as HttpError & { retryAfter?: string }).retryAfter = fault.retryAfter;
          throw err;
        }
      },
    };
    const handle = async (): Promise<void> => {
      if (req.method === 'GET') {
        for (const [re, h] of gets) {
          const m = path.match(re);
          if (m) return reply(200, h(m));
        }
        throw new HttpError(404, `${name}: no route for GET ${path}`);
      }
      if (req.method !== 'POST') throw new HttpError(405, `${name}: method ${req.method} not allowed`);
      const route = posts.find(([re]) => re.test(path));
      if (!route) throw new HttpError(404, `${name}: no route for POST ${path}`);
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (e) {
        throw new HttpError(400, `JSON Parse error: ${(e as Error).message}`);
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        reply(200, await route[1](req, body, path.match(route[0])!, ctx));
      } finally {
        inFlight--;
      }
    };
    handle().catch((e: unknown) => {
      if (e instanceof HttpError) {
        const retryAfter = (e as HttpError & { retryAfter?: string }).retryAfter;
        reply(e.status, { error: e.message }, retryAfter ? { 'retry-after': retryAfter } : {});
      } else reply(500, { error: String((e as Error).message ?? e) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    inject: (fault) => void faults.push(fault),
    clearFaults: () => void (faults = []),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function checkModel(served: string, match: RegExpMatchArray, notFound: (name: string, version?: string) => string): void {
  const [, name, version] = match;
  if (name !== served || (version !== undefined && version !== MODEL_VERSION)) throw new HttpError(404, notFound(decodeURIComponent(name!), version));
}

function numericRow(v: unknown, width: number, where: string): number[] {
  if (!Array.isArray(v) || v.length !== width || !v.every((x) => typeof x === 'number')) {
    throw new HttpError(400, `${where}: expected ${width} numbers, got ${JSON.stringify(v)?.slice(0, 60)}`);
  }
  return v as number[];
}

/**
 * TensorFlow Serving's REST predict API for one model with three signatures:
 * `serving_default` (one input tensor; outputs `label` and `probabilities`), `scores` (the
 * same input; only `probabilities`, so replies use the unnamed single-output form) and
 * `columns` (one named scalar input per feature, as estimators with feature columns export;
 * outputs as serving_default).
 */
export async function startTfServingServer(modelName: string, model: ServedModel, columnNames: readonly string[] = []): Promise<ModelServer> {
  const notFound = (name: string, version?: string): string => `Servable not found for request: ${version ? `Specific(${name}, ${version})` : `Latest(${name})`}`;
  const predict: PredictHandler = async (_req, body, match, ctx) => {
    checkModel(modelName, match, notFound);
    const b = body as { signature_name?: string; instances?: unknown; inputs?: unknown };
    const signature = b.signature_name ?? 'serving_default';
    if (signature !== 'serving_default' && signature !== 'scores' && signature !== 'columns') throw new HttpError(400, `Serving signature name: "${signature}" not found in signature def`);
    if ((b.instances === undefined) === (b.inputs === undefined)) throw new HttpError(400, "Missing 'inputs' or 'instances' key");
    const rowForm = b.instances !== undefined;
    const given = rowForm ? b.instances : b.inputs;
    if (signature === 'columns') return respond(signature, rowForm, await columnRows(given, rowForm));
    const unwrap = (v: unknown, where: string): unknown => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
      const keys = Object.keys(v);
      if (keys.length !== 1 || keys[0] !== model.inputName) throw new HttpError(400, `${where}: unknown input(s) ${keys.join(', ')}; the signature's input is "${model.inputName}"`);
      return (v as Record<string, unknown>)[model.inputName];
    };
    const tensor = rowForm ? (Array.isArray(given) ? given.map((inst, i) => unwrap(inst, `instance ${i}`)) : undefined) : unwrap(given, 'inputs');
    if (!Array.isArray(tensor)) throw new HttpError(400, `${rowForm ? 'instances' : 'inputs'} must be a list`);
    return respond(signature, rowForm, tensor.map((r, i) => numericRow(r, model.width, `${rowForm ? 'instance' : 'row'} ${i}`)));

    async function respond(signature: string, rowForm: boolean, rows: number[][]): Promise<unknown> {
      await ctx.admit(rows);
      const { label, probabilities } = await model.predict(Float32Array.from(rows.flat()), rows.length);
      const probs = rows.map((_, i) => Array.from(probabilities.subarray(i * model.classes, (i + 1) * model.classes)));
      if (signature === 'scores') return rowForm ? { predictions: probs } : { outputs: probs };
      return rowForm ? { predictions: rows.map((_, i) => ({ label: label[i], probabilities: probs[i] })) } : { outputs: { label, probabilities: probs } };
    }
  };
  /** Rows from one named scalar input per feature: instances of objects, or an object of arrays. */
  const columnRows = async (given: unknown, rowForm: boolean): Promise<number[][]> => {
    const scalar = (v: unknown, where: string): number => {
      if (typeof v !== 'number') throw new HttpError(400, `${where}: expected a number, got ${JSON.stringify(v)}`);
      return v;
    };
    const named = (o: unknown, where: string): Record<string, unknown> => {
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new HttpError(400, `${where}: the "columns" signature takes named inputs ${columnNames.join(', ')}`);
      const missing = columnNames.filter((c) => !(c in o));
      if (missing.length) throw new HttpError(400, `${where}: missing input(s) ${missing.join(', ')}`);
      return o as Record<string, unknown>;
    };
    if (rowForm) {
      if (!Array.isArray(given)) throw new HttpError(400, 'instances must be a list');
      return given.map((inst, i) => {
        const o = named(inst, `instance ${i}`);
        return columnNames.map((c) => scalar(o[c], `instance ${i} input ${c}`));
      });
    }
    const o = named(given, 'inputs');
    const lists = columnNames.map((c) => o[c]);
    if (!lists.every((l) => Array.isArray(l) && l.length === (lists[0] as unknown[]).length)) throw new HttpError(400, 'inputs: every named input needs the same number of rows');
    return (lists[0] as unknown[]).map((_, i) => lists.map((l, k) => scalar((l as unknown[])[i], `input ${columnNames[k]} row ${i}`)));
  };
  const status = (match: RegExpMatchArray): unknown => {
    checkModel(modelName, match, notFound);
    return { model_version_status: [{ version: MODEL_VERSION, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] };
  };
  return startServer('tfserving', [[/^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?:predict$/, predict]], [[/^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?$/, status]]);
}

const KSERVE_OUTPUTS = ['label', 'probabilities'] as const;

/** The KServe Open Inference Protocol v2 REST API for one model (FP32 input `<inputName>` of shape [-1, width]). */
export async function startKServeServer(modelName: string, model: ServedModel): Promise<ModelServer> {
  const notFound = (name: string, version?: string): string => `Model with name ${name}${version ? ` and version ${version}` : ''} does not exist.`;
  const metadata = {
    name: modelName,
    versions: [MODEL_VERSION],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: model.inputName, datatype: 'FP32', shape: [-1, model.width] }],
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, model.classes] },
    ],
  };
  const infer: PredictHandler = async (_req, body, match, ctx) => {
    checkModel(modelName, match, notFound);
    const b = body as { id?: string; inputs?: unknown; outputs?: unknown };
    if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw new HttpError(400, 'inference request has no inputs');
    if (b.inputs.length !== 1) throw new HttpError(400, `expected 1 input, got ${b.inputs.length}`);
    const input = b.inputs[0] as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown };
    if (input.name !== model.inputName) throw new HttpError(400, `unexpected inference input '${String(input.name)}' for model '${modelName}'`);
    if (input.datatype !== 'FP32') throw new HttpError(400, `unexpected datatype ${String(input.datatype)} for inference input '${model.inputName}', expecting FP32`);
    const shape = input.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || shape[1] !== model.width || !Number.isInteger(shape[0])) {
      throw new HttpError(400, `unexpected shape for input '${model.inputName}', model expects [-1,${model.width}], got ${JSON.stringify(shape)}`);
    }
    const data = Array.isArray(input.data) ? (input.data as unknown[]).flat(Infinity) : [];
    const n = shape[0] as number;
    if (data.length !== n * model.width || !data.every((x) => typeof x === 'number')) {
      throw new HttpError(400, `input '${model.inputName}' has ${data.length} values, shape [${shape.join(',')}] needs ${n * model.width}`);
    }
    const wanted = Array.isArray(b.outputs) ? (b.outputs as { name?: unknown }[]).map((o) => String(o.name)) : [...KSERVE_OUTPUTS];
    const unknown = wanted.find((w) => !(KSERVE_OUTPUTS as readonly string[]).includes(w));
    if (unknown) throw new HttpError(400, `unexpected inference output '${unknown}' for model '${modelName}'`);
    const rows = Array.from({ length: n }, (_, i) => (data as number[]).slice(i * model.width, (i + 1) * model.width));
    await ctx.admit(rows);
    const { label, probabilities } = await model.predict(Float32Array.from(data as number[]), n);
    const tensors = {
      label: { name: 'label', datatype: 'INT64', shape: [n], data: label },
      probabilities: { name: 'probabilities', datatype: 'FP32', shape: [n, model.classes], data: Array.from(probabilities) },
    };
    return { model_name: modelName, model_version: MODEL_VERSION, ...(b.id !== undefined ? { id: b.id } : {}), outputs: wanted.map((w) => tensors[w as keyof typeof tensors]) };
  };
  const model_ = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?/;
  const known = (match: RegExpMatchArray, reply: unknown): unknown => {
    checkModel(modelName, match, notFound);
    return reply;
  };
  return startServer(
    'kserve',
    [[new RegExp(`${model_.source}/infer$`), infer]],
    [
      [/^\/v2\/health\/live$/, () => ({ live: true })],
      [/^\/v2\/health\/ready$/, () => ({ ready: true })],
      [/^\/v2$/, () => ({ name: 'mlstream-test-kserve', version: '2', extensions: [] })],
      [new RegExp(`${model_.source}/ready$`), (m) => known(m, { name: modelName, ready: true })],
      [new RegExp(`${model_.source}$`), (m) => known(m, metadata)],
    ],
  );
}
