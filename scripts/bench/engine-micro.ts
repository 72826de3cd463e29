/**
 * `npx tsx scripts/bench/engine-micro.ts`: three costs of the serving engine on spam-text, in
 * this process, over the SpamAssassin mails in slices of 250 (the runtime's default). The
 * figures quoted in docs/performance.md ("What crosses the thread boundary", "From the
 * message's bytes") come from this command.
 *
 * 1. A worker's answer across the thread boundary: `v8.serialize` + `v8.deserialize` (the
 *    cloning `postMessage` does) of a slice's outputs as whole objects, against the values
 *    and input indices the pool sends (pool-protocol.ts `toWire`).
 * 2. Packing a slice's values for a worker into a new buffer, against into one sent back.
 * 3. A plan's whole run with the JSON text path (no prediction records wanted, as `serve`
 *    without a sink or the dashboard) against the general path (records wanted), in
 *    interleaved rounds; CPU of the process, its GC threads included.
 * 4. The same over the mails holding non-ASCII text only, which the JSON text path reads
 *    since it decodes such tokens itself.
 * 5. The fused text stage's JSON token loop alone (its `read` and `finish` per mail, wall
 *    time) in C (runtime/native/text-loop.c) and in TypeScript, in interleaved rounds.
 */
import { deserialize, serialize } from 'node:v8';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputMessage } from '../../runtime/engine/messages.js';
import { planFor, type PlanRun } from '../../runtime/engine/plan.js';
import { pack, toWire } from '../../runtime/engine/pool-protocol.js';
import { loadPackage } from '../../runtime/packages/package.js';
import { textLoopAddon, useTextLoop } from '../../runtime/native/text-loop.js';
import { jsonTextReaderOf } from '../../runtime/stages/spark/fused-text.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { inputMessage, loadCorpus } from './corpus.js';

const SLICE = 250;
const root = fileURLToPath(new URL('../..', import.meta.url));
const corpus = await loadCorpus();
const model = await loadPackage(join(root, 'model-packages', 'spam-text'), builtinRegistry());
const plan = planFor(model);
const topics = { predictions: 'predictions', errors: 'errors' };
const limits = { maxMessageBytes: 1024 * 1024, errorRawMaxBytes: 4096 };
const records = corpus.mails * 2;
const messages: InputMessage[] = Array.from({ length: records }, (_, i) => {
  const m = inputMessage(corpus, i);
  return { topic: 'messages', partition: 0, offset: String(i), key: Buffer.from(m.key), value: m.value, timestamp: '1700000000000' };
});
const inSlices = (list: InputMessage[]): InputMessage[][] => Array.from({ length: Math.ceil(list.length / SLICE) }, (_, k) => list.slice(k * SLICE, (k + 1) * SLICE));
const slices = inSlices(messages);
const positions = Array.from({ length: SLICE }, (_, k) => k);

async function cpuUsPerRecord(run: () => Promise<void> | void, count: number): Promise<number> {
  const before = process.cpuUsage();
  await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// 1. Outputs across the thread boundary.
const runs: PlanRun[] = [];
for (const slice of slices.slice(0, 20)) runs.push(await plan.run(slice, positions, topics, limits, false));
const asObjects = runs.map((r) => ({ predictions: r.predictions.map(({ key: _key, ...o }) => o), errors: r.errors.map(({ key: _key, ...o }) => o) }));
const compact = runs.map((r) => toWire(r, false, 0));
const outputs = runs.reduce((n, r) => n + r.predictions.length + r.errors.length, 0);
const clone = (values: unknown[]): (() => void) => () => {
  for (let round = 0; round < 20; round++) for (const v of values) deserialize(serialize(v));
};
const objectsUs: number[] = [];
const compactUs: number[] = [];
for (let round = 0; round < 5; round++) {
  objectsUs.push(await cpuUsPerRecord(clone(asObjects), outputs * 20));
  compactUs.push(await cpuUsPerRecord(clone(compact), outputs * 20));
}

// 2. Packing into a new buffer against one sent back.
const spare = new ArrayBuffer(8 * 1024 * 1024);
const packAll = (reuse: boolean) => () => {
  for (let round = 0; round < 4; round++) for (const slice of slices) pack(slice, reuse ? () => spare : undefined);
};
const freshUs: number[] = [];
const reusedUs: number[] = [];
for (let round = 0; round < 5; round++) {
  freshUs.push(await cpuUsPerRecord(packAll(false), records * 4));
  reusedUs.push(await cpuUsPerRecord(packAll(true), records * 4));
}

/**
 * CPU µs per record of the plan's run over `list` (`passes` times over), with the JSON text
 * path (no prediction records wanted) and with the general path, in 7 interleaved rounds.
 */
async function bothPaths(list: InputMessage[][], passes: number): Promise<{ direct: number[]; general: number[] }> {
  const count = list.reduce((n, slice) => n + slice.length, 0) * passes;
  const run = (wantRecords: boolean) => async () => {
    for (let pass = 0; pass < passes; pass++) for (const slice of list) await plan.run(slice, positions, topics, limits, wantRecords);
  };
  const direct: number[] = [];
  const general: number[] = [];
  for (let round = 0; round < 7; round++) {
    direct.push(await cpuUsPerRecord(run(false), count));
    general.push(await cpuUsPerRecord(run(true), count));
  }
  return { direct, general };
}

// 3. The plan's run, JSON text path against the general path, after one warm-up run each way.
for (const wantRecords of [false, true]) for (const slice of slices) await plan.run(slice, positions, topics, limits, wantRecords);
const whole = await bothPaths(slices, 1);

// 4. The same over the mails with non-ASCII text.
const wide = messages.slice(0, corpus.mails).filter((_, i) => /[^\x00-\x7f]/.test(corpus.texts[i]!));
const wideRuns = await bothPaths(inSlices(wide), 4);
await model.pipeline.dispose();

// 5. The token loop alone, each way: one reader per loop (the loop is chosen when a stage is made).
const loops = { native: 0, js: 0 };
const readers = new Map<keyof typeof loops, NonNullable<ReturnType<typeof jsonTextReaderOf>>>();
for (const loop of ['native', 'js'] as const) {
  useTextLoop(loop);
  const version = await loadPackage(join(root, 'model-packages', 'spam-text'), builtinRegistry());
  readers.set(loop, jsonTextReaderOf(version.pipeline.executed[0])!);
}
useTextLoop('native');
const built = textLoopAddon();
const values = messages.slice(0, corpus.mails).map((m) => m.value!);
const starts = values.map((v) => v.indexOf('"text":"') + 8);
const loopUs: Record<keyof typeof loops, number[]> = { native: [], js: [] };
for (let round = 0; round < 9; round++) {
  for (const loop of ['native', 'js'] as const) {
    const reader = readers.get(loop)!;
    const started = process.hrtime.bigint();
    for (let i = 0; i < values.length; i++) if (reader.read(values[i]!, starts[i]!) >= 0) reader.finish();
    loopUs[loop].push(Number(process.hrtime.bigint() - started) / values.length / 1000);
  }
}

const f = (x: number): string => x.toFixed(2);
console.log(`spam-text, ${records} records in slices of ${SLICE}; CPU µs per record, median of the interleaved rounds (all rounds in brackets)`);
console.log(`1. outputs cloned across threads: as objects ${f(median(objectsUs))} [${objectsUs.map(f).join(', ')}], as values and indices ${f(median(compactUs))} [${compactUs.map(f).join(', ')}]`);
console.log(`2. packing values for a worker: new buffer ${f(median(freshUs))} [${freshUs.map(f).join(', ')}], buffer sent back ${f(median(reusedUs))} [${reusedUs.map(f).join(', ')}]`);
const paths = ({ direct, general }: { direct: number[]; general: number[] }): string =>
  `JSON text path ${f(median(direct))} [${direct.map(f).join(', ')}], general path ${f(median(general))} [${general.map(f).join(', ')}]`;
console.log(`3. plan run: ${paths(whole)}`);
console.log(`4. plan run over the ${wide.length} mails with non-ASCII text: ${paths(wideRuns)}`);
console.log(
  `5. the JSON token loop alone (read + finish per mail, wall µs, median of 9 interleaved rounds): C ${f(median(loopUs.native))} [${loopUs.native.map(f).join(', ')}]${built.addon ? '' : ` (not built: ${built.why}, so TypeScript too)`}, TypeScript ${f(median(loopUs.js))} [${loopUs.js.map(f).join(', ')}]`,
);
