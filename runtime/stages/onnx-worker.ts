import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { SessionOptions, TensorData, WorkerReply, WorkerRequest } from './onnx-session.js';

/**
 * The thread an ONNX session lives on. onnxruntime-node's `run` holds the calling thread
 * until inference ends, so it runs here and the main thread keeps fetching, heartbeating
 * and answering HTTP meanwhile. Requests come one at a time from the main side.
 */

const { model, options } = workerData as { model: Uint8Array; options: SessionOptions };
const port = parentPort!;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function toTensor(t: TensorData): ort.Tensor {
  return new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    reply({ kind: 'failed', message: (e as Error).message });
    return;
  }
  reply({ kind: 'ready', inputs: [...session.inputMetadata], outputs: [...session.outputMetadata] });
  port.on('message', (request: WorkerRequest) => {
    if (request.kind === 'release') {
      void session.release().finally(() => {
        reply({ kind: 'released' });
        port.close();
      });
      return;
    }
    const feeds = Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, toTensor(t)]));
    session.run(feeds, request.fetches).then(
      (results) => {
        const outputs: Record<string, TensorData> = {};
        const transfer = new Set<ArrayBuffer>();
        for (const [name, value] of Object.entries(results)) {
          const t = value as ort.Tensor;
          outputs[name] = { type: t.type, data: t.data as TensorData['data'], dims: [...t.dims] };
          if (ArrayBuffer.isView(t.data) && t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
        }
        reply({ kind: 'result', id: request.id, outputs }, [...transfer]);
      },
      (e: unknown) => reply({ kind: 'error', id: request.id, message: (e as Error).message }),
    );
  });
}

void main();
