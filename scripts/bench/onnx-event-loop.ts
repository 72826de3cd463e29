/**
 * How long does one micro-batch of ONNX inference hold the event loop, and what does each
 * way of keeping it free cost? `npx tsx scripts/bench/onnx-event-loop.ts [--rows 1000]`
 *
 * Strategies, per model, on the same batch:
 *  - inline: one session.run on the main thread (the event loop waits for all of it);
 *  - sub-batches of k rows: one run per slice, yielding to the event loop between slices;
 *  - worker: one run on a worker thread (OnnxWorkerSession, what the ONNX stage uses).
 * Reported: median wall time of a batch and the longest stall of a 1 ms interval timer
 * during it (what a heartbeat or an HTTP request would have waited).
 */
import * as ort from 'onnxruntime-node';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { encodeModel, type Initializer } from '../examples/onnx/model.js';
import { OnnxWorkerSession } from '../../runtime/stages/onnx-session.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000' }, repeat: { type: 'string', default: '5' } } });
const rows = Number(values.rows);
const repeat = Number(values.repeat);

function weights(name: string, dims: number[]): Initializer {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (((i * 2654435761) >>> 0) % 2001) / 1e5 - 0.01;
  return { name, type: 'float', dims, data };
}

/** Logistic regression over 2^14 hashed features: the shipped text example's ONNX stage. */
function linearModel(): { bytes: Uint8Array; features: number } {
  const f = 16384;
  const bytes = encodeModel({
    graphName: 'lr',
    inputs: { x: { tensor: 'float', dims: ['N', f] } },
    outputs: { p: { tensor: 'float', dims: ['N', 2] } },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w'], outputs: ['z'] },
      { op: 'Add', inputs: ['z', 'b'], outputs: ['m'] },
      { op: 'Softmax', inputs: ['m'], outputs: ['p'], attributes: { axis: { i: 1 } } },
    ],
    initializers: [weights('w', [f, 2]), weights('b', [2])],
  });
  return { bytes, features: f };
}

/** A dense network of the size people export from PyTorch for tabular data. */
function mlpModel(f: number, h: number): { bytes: Uint8Array; features: number } {
  const bytes = encodeModel({
    graphName: 'mlp',
    inputs: { x: { tensor: 'float', dims: ['N', f] } },
    outputs: { p: { tensor: 'float', dims: ['N', 3] } },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h1'] },
      { op: 'Relu', inputs: ['h1'], outputs: ['a1'] },
      { op: 'MatMul', inputs: ['a1', 'w2'], outputs: ['h2'] },
      { op: 'Relu', inputs: ['h2'], outputs: ['a2'] },
      { op: 'MatMul', inputs: ['a2', 'w3'], outputs: ['z'] },
      { op: 'Softmax', inputs: ['z'], outputs: ['p'], attributes: { axis: { i: 1 } } },
    ],
    initializers: [weights('w1', [f, h]), weights('w2', [h, h]), weights('w3', [h, 3])],
  });
  return { bytes, features: f };
}

/** Runs `work` while a 1 ms timer records the longest gap between its ticks. */
async function measure(work: () => Promise<void>): Promise<{ ms: number; stallMs: number }> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  stall = Math.max(stall, performance.now() - last);
  clearInterval(timer);
  return { ms, stallMs: stall };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function bench(label: string, features: number, work: (x: Float32Array) => Promise<void>): Promise<void> {
  const times: number[] = [];
  const stalls: number[] = [];
  for (let r = 0; r <= repeat; r++) {
    const x = new Float32Array(rows * features).fill(0.01);
    const { ms, stallMs } = await measure(() => work(x));
    if (r === 0) continue;
    times.push(ms);
    stalls.push(stallMs);
  }
  console.log(`${label.padEnd(34)} batch ${median(times).toFixed(1).padStart(7)} ms   longest stall ${Math.max(...stalls).toFixed(1).padStart(7)} ms`);
}

async function main(): Promise<void> {
  console.log(`${rows} rows per batch, median of ${repeat} batches, ${(await import('node:os')).availableParallelism()} cores`);
  for (const [name, { bytes, features }] of [
    ['logistic regression, 16384 features', linearModel()],
    ['MLP 256-1024-1024-3', mlpModel(256, 1024)],
    ['MLP 1024-4096-4096-3', mlpModel(1024, 4096)],
  ] as const) {
    console.log(`\n${name}`);
    const session = await ort.InferenceSession.create(bytes);
    await bench('inline, one run', features, async (x) => {
      await session.run({ x: new ort.Tensor('float32', x, [rows, features]) });
    });
    for (const k of [250, 100]) {
      await bench(`inline, sub-batches of ${k}`, features, async (x) => {
        for (let s = 0; s < rows; s += k) {
          const n = Math.min(k, rows - s);
          await session.run({ x: new ort.Tensor('float32', x.subarray(s * features, (s + n) * features), [n, features]) });
          await yieldToLoop();
        }
      });
    }
    await session.release();
    const worker = await OnnxWorkerSession.create(bytes);
    await bench('worker thread, one run', features, async (x) => {
      await worker.run({ x: { type: 'float32', data: x, dims: [rows, features] } }, ['p'], [x.buffer as ArrayBuffer]);
    });
    await worker.release();
  }
}

await main();
