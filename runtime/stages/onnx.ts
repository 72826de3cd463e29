import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { InferenceSession } from 'onnxruntime-node';
import { ErrorCodes } from '../errors.js';
import { lazy } from '../lazy.js';
import { PackageError } from '../packages/errors.js';
import { argmax, type Frame, PipelineError, type Vector } from '../pipeline/frame.js';
import type { ModelOutputs, Stage, StageContext, StageFactory } from '../pipeline/stage.js';
import { OnnxWorkerSession, type TensorData } from './onnx-session.js';
import { unwrapZipMaps } from './onnx-zipmap.js';
import stageSchema from '../../schemas/onnx-stage.schema.json' with { type: 'json' };

/**
 * An ONNX model (exported from scikit-learn, PyTorch, XGBoost...) as a pipeline stage:
 * `model.onnx` beside the stage's `metadata/`, params in schemas/onnx-stage.schema.json.
 * One session per package version, on a worker thread; one run per micro-batch.
 */
export const ONNX_STAGE_CLASS = 'mlstream.OnnxModel';

// Compiled on first use: most runtimes never load a stage of this kind.
const validateMetadataFn = lazy(() => new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(stageSchema));

type Input = { readonly kind: 'columns'; readonly cols: readonly string[] } | { readonly kind: 'vector'; readonly col: string };

interface Plan {
  readonly input: Input;
  readonly inputName: string;
  readonly tensorType: 'float32' | 'float64';
  /** Tensor width; undefined: taken from the vector column at run time. */
  readonly width: number | undefined;
  readonly predictionFetch: string | undefined;
  readonly probabilityFetch: string | undefined;
  readonly classIndex: ReadonlyMap<string, number> | undefined;
  readonly predictionCol: string;
  readonly probabilityCol: string;
  readonly numClasses: number | undefined;
}

export const onnxModel: StageFactory = async (ctx) => {
  const metaFile = join(ctx.dir, 'metadata');
  const validateMetadata = validateMetadataFn();
  if (!validateMetadata(ctx.metadata)) {
    const why = (validateMetadata.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new PackageError(`does not match schemas/onnx-stage.schema.json: ${why}`, metaFile);
  }
  const modelPath = join(ctx.dir, ctx.params.string('modelFile', 'model.onnx'));
  let bytes: Uint8Array;
  try {
    bytes = await readFile(modelPath);
  } catch {
    throw new PackageError('the ONNX model file is missing or unreadable', modelPath);
  }
  const { model, zipMaps } = unwrapZipMaps(bytes);
  const threads = ctx.params.has('intraOpNumThreads') ? ctx.params.number('intraOpNumThreads') : undefined;
  let session: OnnxWorkerSession;
  try {
    session = await OnnxWorkerSession.create(model, threads ? { intraOpNumThreads: threads } : {});
  } catch (e) {
    throw new PackageError(`onnxruntime cannot load the model: ${(e as Error).message}`, modelPath);
  }
  try {
    return onnxStage(ctx, session, plan(ctx, session, zipMaps));
  } catch (e) {
    await session.release();
    throw e instanceof PackageError ? e : new PackageError((e as Error).message, metaFile);
  }
};

function plan(ctx: StageContext, session: OnnxWorkerSession, zipMaps: ReturnType<typeof unwrapZipMaps>['zipMaps']): Plan {
  const p = ctx.params;
  const input: Input = p.has('inputCols') ? { kind: 'columns', cols: p.strings('inputCols') } : { kind: 'vector', col: p.string('featuresCol') };
  const tensorInputs = session.inputs.filter((m): m is InferenceSession.TensorValueMetadata => m.isTensor);
  const inputName = p.optionalString('inputName') ?? soleName(tensorInputs, 'input');
  const inputMeta = tensorInputs.find((m) => m.name === inputName);
  if (!inputMeta) throw new Error(`the graph has no tensor input "${inputName}" (inputs: ${names(session.inputs)})`);
  if (session.inputs.length > 1) throw new Error(`the graph takes ${session.inputs.length} inputs (${names(session.inputs)}); this stage feeds exactly one`);
  if (inputMeta.type !== 'float32' && inputMeta.type !== 'float64') {
    throw new Error(`graph input "${inputName}" is ${inputMeta.type}; this stage feeds float or double tensors`);
  }
  if (inputMeta.shape.length !== 0 && inputMeta.shape.length !== 2) {
    throw new Error(`graph input "${inputName}" has rank ${inputMeta.shape.length}; this stage feeds [batch, features]`);
  }
  const staticWidth = typeof inputMeta.shape[1] === 'number' ? inputMeta.shape[1] : undefined;
  const width = input.kind === 'columns' ? input.cols.length : p.has('numFeatures') ? p.number('numFeatures') : staticWidth;
  if (staticWidth !== undefined && width !== undefined && width !== staticWidth) {
    throw new Error(`graph input "${inputName}" takes ${staticWidth} features, the params give ${width}`);
  }

  const outputNames = new Set(session.outputs.map((m) => m.name));
  const unwrapped = new Map(zipMaps.map((z) => [z.output, z]));
  const has = (name: string): boolean => outputNames.has(name) || unwrapped.has(name);
  let predictionOutput = p.optionalString('predictionOutput');
  let probabilityOutput = p.optionalString('probabilityOutput');
  if (!predictionOutput && !probabilityOutput) [predictionOutput, probabilityOutput] = defaultOutputs(session, has);
  for (const o of [predictionOutput, probabilityOutput]) {
    if (o && !has(o)) throw new Error(`the graph has no output "${o}" (outputs: ${[...outputNames].join(', ')})`);
  }
  const zip = probabilityOutput ? unwrapped.get(probabilityOutput) : undefined;
  const probabilityFetch = zip ? zip.tensor : probabilityOutput;
  const labels = p.has('classLabels') ? (p.raw('classLabels') as (string | number)[]) : zip?.classLabels;
  const predictionMeta = session.outputs.find((m) => m.name === predictionOutput);
  if (predictionMeta && !predictionMeta.isTensor) throw new Error(`graph output "${predictionOutput}" is not a tensor`);
  if (predictionMeta?.isTensor && predictionMeta.type === 'string' && !labels) {
    throw new Error(`graph output "${predictionOutput}" holds string labels: set classLabels to map them to class indices`);
  }
  const probabilityMeta = session.outputs.find((m) => m.name === probabilityFetch);
  const staticClasses = probabilityMeta?.isTensor && typeof probabilityMeta.shape[1] === 'number' ? probabilityMeta.shape[1] : undefined;
  return {
    input,
    inputName,
    tensorType: inputMeta.type,
    width,
    predictionFetch: predictionOutput,
    probabilityFetch,
    classIndex: labels ? new Map(labels.map((l, k) => [String(l), k])) : undefined,
    predictionCol: p.string('predictionCol', 'prediction'),
    probabilityCol: p.string('probabilityCol', 'probability'),
    numClasses: labels?.length ?? staticClasses,
  };
}

/** skl2onnx's names, else the only output (probabilities when it has several columns). */
function defaultOutputs(session: OnnxWorkerSession, has: (name: string) => boolean): [string | undefined, string | undefined] {
  if (has('output_label') || has('output_probability')) {
    return [has('output_label') ? 'output_label' : undefined, has('output_probability') ? 'output_probability' : undefined];
  }
  const only = soleName(session.outputs, 'output');
  const meta = session.outputs[0]!;
  const columns = meta.isTensor && meta.shape.length === 2 ? meta.shape[1] : 1;
  return columns === 1 ? [only, undefined] : [undefined, only];
}

function soleName(values: readonly InferenceSession.ValueMetadata[], what: string): string {
  if (values.length !== 1) throw new Error(`the graph has ${values.length} ${what}s (${names(values)}); name the one to use in the params`);
  return values[0]!.name;
}

const names = (values: readonly InferenceSession.ValueMetadata[]): string => values.map((m) => m.name).join(', ');

function onnxStage(ctx: StageContext, session: OnnxWorkerSession, plan: Plan): Stage {
  const uid = ctx.metadata.uid;
  const fetches = [plan.predictionFetch, plan.probabilityFetch].filter((f): f is string => f !== undefined);
  const modelOutputs: ModelOutputs = {
    predictionCol: plan.predictionCol,
    ...(plan.probabilityFetch ? { probabilityCol: plan.probabilityCol } : {}),
    ...(plan.numClasses ? { numClasses: plan.numClasses } : {}),
  };
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: plan.input.kind === 'columns' ? plan.input.cols : [plan.input.col],
    outputCols: plan.probabilityFetch ? [plan.predictionCol, plan.probabilityCol] : [plan.predictionCol],
    modelOutputs,
    async transform(frame) {
      const n = frame.length;
      if (n === 0) return;
      const width = tensorWidth(frame, plan);
      const perRun = rowsPerRun(width, plan.tensorType);
      const parts: Record<string, TensorData>[] = [];
      for (let from = 0; from < n; from += perRun) {
        const to = Math.min(n, from + perRun);
        const data = assemble(frame, plan, uid, width, from, to);
        try {
          parts.push(await session.run({ [plan.inputName]: { type: plan.tensorType, data, dims: [to - from, width] } }, fetches, [data.buffer as ArrayBuffer]));
        } catch (e) {
          throw new PipelineError(`onnxruntime failed: ${(e as Error).message}`);
        }
      }
      writeOutputs(frame, plan, parts.length === 1 ? parts[0]! : joinRows(parts, fetches), uid);
    },
    dispose: () => session.release(),
  };
}

/**
 * The most tensor bytes one run feeds onnxruntime. A batch of text features is dense here
 * (rows × numFeatures), and past about 16 MiB per run the bench's stage sweep saw the model's
 * cost per record jump tenfold (spam-text-onnx, 16,384 features in float32: 17 µs at 250 rows,
 * 216–427 µs at 500 and more; docs/performance.md, "Slice size"), so a bigger batch runs in
 * pieces of at most this many bytes, one after the other, which also bounds the memory.
 */
const MAX_RUN_TENSOR_BYTES = 8 * 1024 * 1024;

function rowsPerRun(width: number, type: Plan['tensorType']): number {
  return Math.max(1, Math.floor(MAX_RUN_TENSOR_BYTES / (Math.max(1, width) * (type === 'float32' ? 4 : 8))));
}

function tensorWidth(frame: Frame, plan: Plan): number {
  const { input } = plan;
  if (input.kind === 'columns') return input.cols.length;
  const col = frame.getTyped(input.col, 'vector');
  const width = plan.width ?? (col.size > 0 ? col.size : firstSize(col.values));
  if (width === undefined) throw new PipelineError(`cannot tell the size of vector column "${input.col}"; set numFeatures`);
  return width;
}

/** Packs rows `from`..`to` of the batch into one row-major tensor; rows that cannot be packed are failed and fed zeros. */
function assemble(frame: Frame, plan: Plan, uid: string, width: number, from: number, to: number): Float32Array | Float64Array {
  const { input } = plan;
  const data = plan.tensorType === 'float32' ? new Float32Array((to - from) * width) : new Float64Array((to - from) * width);
  if (input.kind === 'columns') {
    input.cols.forEach((name, c) => {
      const values = frame.getTyped(name, 'double').values;
      for (let i = from; i < to; i++) data[(i - from) * width + c] = values[i]!;
    });
    return data;
  }
  const col = frame.getTyped(input.col, 'vector');
  for (let i = from; i < to; i++) {
    const v = col.values[i];
    if (v == null) {
      frame.reject(i, ErrorCodes.PIPELINE_ERROR, `column "${input.col}" is null`, uid);
      continue;
    }
    const base = (i - from) * width;
    if (v instanceof Float64Array) {
      if (v.length !== width) frame.reject(i, ErrorCodes.PIPELINE_ERROR, `"${input.col}" has size ${v.length}, the model takes ${width}`, uid);
      else data.set(v, base);
    } else if (v.size !== width) {
      frame.reject(i, ErrorCodes.PIPELINE_ERROR, `"${input.col}" has size ${v.size}, the model takes ${width}`, uid);
    } else {
      for (let k = 0; k < v.indices.length; k++) data[base + v.indices[k]!] = v.values[k]!;
    }
  }
  return data;
}

/** The outputs of consecutive runs as one run's: each fetched tensor's rows one after another. */
function joinRows(parts: readonly Record<string, TensorData>[], fetches: readonly string[]): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const name of fetches) {
    const pieces = parts.map((p) => p[name]);
    const first = pieces[0];
    if (!first || pieces.some((t) => t === undefined)) continue;
    const tensors = pieces as TensorData[];
    const rows = tensors.reduce((s, t) => s + (t.dims[0] ?? 0), 0);
    let data: TensorData['data'];
    if (Array.isArray(first.data)) data = tensors.flatMap((t) => t.data as string[]);
    else {
      const joined = new (first.data.constructor as new (length: number) => Exclude<TensorData['data'], string[]>)(tensors.reduce((s, t) => s + t.data.length, 0));
      let at = 0;
      for (const t of tensors) {
        (joined as Float64Array).set(t.data as Float64Array, at);
        at += t.data.length;
      }
      data = joined;
    }
    out[name] = { type: first.type, data, dims: [rows, ...first.dims.slice(1)] };
  }
  return out;
}

function firstSize(values: readonly (Vector | null)[]): number | undefined {
  const v = values.find((x) => x != null);
  return v == null ? undefined : v instanceof Float64Array ? v.length : v.size;
}

function writeOutputs(frame: Frame, plan: Plan, outputs: Record<string, TensorData>, uid: string): void {
  const n = frame.length;
  const probability = plan.probabilityFetch ? outputs[plan.probabilityFetch] : undefined;
  let rows: Float64Array[] | undefined;
  if (probability) {
    const classes = probability.dims.length === 2 ? probability.dims[1]! : 1;
    if (probability.dims[0] !== n) throw new PipelineError(`output "${plan.probabilityFetch}" has ${probability.dims[0]} rows for ${n} inputs`);
    const flat = probability.data as Float32Array | Float64Array;
    rows = Array.from({ length: n }, (_, i) => Float64Array.from(flat.subarray(i * classes, (i + 1) * classes)));
    frame.set(plan.probabilityCol, { type: 'vector', size: classes, values: rows });
  }
  const predictions = new Float64Array(n);
  const label = plan.predictionFetch ? outputs[plan.predictionFetch] : undefined;
  if (label) {
    if (label.dims[0] !== n) throw new PipelineError(`output "${plan.predictionFetch}" has ${label.dims[0]} rows for ${n} inputs`);
    const perRow = label.data.length / n;
    for (let i = 0; i < n; i++) {
      const raw = label.data[i * perRow]!;
      if (!plan.classIndex) {
        predictions[i] = Number(raw);
        continue;
      }
      const k = plan.classIndex.get(String(raw));
      if (k === undefined) {
        predictions[i] = NaN;
        frame.reject(i, ErrorCodes.PIPELINE_ERROR, `the model predicted "${String(raw)}", which is not among classLabels`, uid);
      } else predictions[i] = k;
    }
  } else {
    for (let i = 0; i < n; i++) predictions[i] = argmax(rows![i]!);
  }
  frame.set(plan.predictionCol, { type: 'double', values: predictions });
}

