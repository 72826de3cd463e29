import { Worker } from 'node:worker_threads';
import type { InferenceSession } from 'onnxruntime-node';

/** A tensor as it crosses the thread boundary: onnxruntime's type name, its data and its shape. */
export interface TensorData {
  readonly type: string;
  readonly data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];
  readonly dims: readonly number[];
}

export interface SessionOptions {
  readonly intraOpNumThreads?: number;
}

export type WorkerRequest =
  | { readonly kind: 'run'; readonly id: number; readonly feeds: Record<string, TensorData>; readonly fetches: string[] }
  | { readonly kind: 'release' };

export type WorkerReply =
  | { readonly kind: 'ready'; readonly inputs: InferenceSession.ValueMetadata[]; readonly outputs: InferenceSession.ValueMetadata[] }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly outputs: Record<string, TensorData> }
  | { readonly kind: 'error'; readonly id: number; readonly message: string }
  | { readonly kind: 'released' };

interface Pending {
  resolve(outputs: Record<string, TensorData>): void;
  reject(e: Error): void;
}

/** True when this module runs compiled (dist/, as bin/mlstream.js runs it), false under tsx (tests, scripts). */
const compiled = import.meta.url.endsWith('.js');

/**
 * Under tsx the TypeScript hook is in-process, and a worker does not inherit it, so the
 * worker registers it before importing its module; compiled, the worker imports the .js.
 */
const bootstrap = (entry: string): string =>
  compiled
    ? `import(${JSON.stringify(entry)})`
    : `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;

const WORKER_ENTRY = new URL(compiled ? './onnx-worker.js' : './onnx-worker.ts', import.meta.url).href;

/**
 * One onnxruntime session on its own worker thread: created once per package version,
 * released when that version is swapped out. `run` calls are queued by the worker's
 * message order; `release` waits for the runs in flight.
 */
export class OnnxWorkerSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private broken: Error | undefined;
  private released: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly inputs: readonly InferenceSession.ValueMetadata[],
    readonly outputs: readonly InferenceSession.ValueMetadata[],
  ) {
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`the ONNX worker thread exited (code ${code})`)));
    // An idle session does not keep the process alive (a package refused after this stage
    // loaded is never disposed); a run in flight does.
    worker.unref();
  }

  static create(model: Uint8Array, options: SessionOptions = {}): Promise<OnnxWorkerSession> {
    const worker = new Worker(bootstrap(WORKER_ENTRY), { eval: true, workerData: { model, options } });
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      const onExit = (code: number): void => reject(new Error(`the ONNX worker thread exited (code ${code}) before the session was ready`));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (m: WorkerReply) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (m.kind === 'ready') resolve(new OnnxWorkerSession(worker, m.inputs, m.outputs));
        else {
          void worker.terminate();
          reject(new Error(m.kind === 'failed' ? m.message : `unexpected first message from the ONNX worker: ${m.kind}`));
        }
      });
    });
  }

  run(feeds: Record<string, TensorData>, fetches: string[], transfer: ArrayBuffer[] = []): Promise<Record<string, TensorData>> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.released) return Promise.reject(new Error('the ONNX session was released'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const request: WorkerRequest = { kind: 'run', id, feeds, fetches };
      this.worker.postMessage(request, transfer);
    });
  }

  release(): Promise<void> {
    this.released ??= this.drain().then(async () => {
      if (this.broken) return;
      const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.ref();
      const request: WorkerRequest = { kind: 'release' };
      this.worker.postMessage(request);
      await done;
    });
    return this.released;
  }

  private async drain(): Promise<void> {
    const inFlight = [...this.pending.values()].map(
      (p) => new Promise<void>((done) => {
        const { resolve, reject } = p;
        p.resolve = (o) => (resolve(o), done());
        p.reject = (e) => (reject(e), done());
      }),
    );
    await Promise.all(inFlight);
  }

  private onReply(m: WorkerReply): void {
    if (m.kind !== 'result' && m.kind !== 'error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.kind === 'result') p.resolve(m.outputs);
    else p.reject(new Error(m.message));
  }

  private fail(e: Error): void {
    if (this.released && !this.broken && this.pending.size === 0) return;
    this.broken ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
