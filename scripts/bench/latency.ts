import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, startChild, type Child } from './child.js';
import { checkIds, collect, type IdCheck, type Output } from './outputs.js';
import { sleep, type RowSetup, type System } from './throughput.js';

export interface LatencyResult {
  readonly system: System;
  /** Records per second the pacer offered. */
  readonly offered: number;
  /** Outputs per second from the first record sent to the last output. */
  readonly deliveredPerS: number;
  /** From the last record sent to the last output: a system that keeps up needs about one latency. */
  readonly drainMs: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /**
   * Percentiles of the part up to the output's producer timestamp (set by the system's Kafka
   * producer when it takes the output, whole ms), so the rest (broker, the measuring consumer's
   * fetch) shows apart from what the system under test spent.
   */
  readonly writtenP50: number;
  readonly writtenP99: number;
  readonly samples: number;
  /** With more than one run of the system: every run's p99 at this load, in run order (this result is the lowest). */
  readonly p99Runs?: readonly number[];
  /** CPU cores the system used while paced. */
  readonly cores: number;
  readonly ids: IdCheck;
}

/**
 * Per load, the run with the lowest p99 out of a system's runs (each run a list by load, in
 * the same order), with every run's p99: other work on the machine only ever adds latency, as
 * it only ever takes throughput away, so the quietest run is the system's own figure, and the
 * list shows how much the machine moved it. A result whose ids failed is kept whatever its p99,
 * so the failure is reported.
 */
export function bestLatencies(runs: readonly (readonly LatencyResult[])[]): LatencyResult[] {
  if (runs.length === 0) return [];
  if (runs.length === 1) return [...runs[0]!];
  return runs[0]!.map((_, k) => {
    const atLoad = runs.map((run) => run[k]!);
    const failed = atLoad.find((r) => !r.ids.ok);
    const best = failed ?? atLoad.reduce((a, b) => (b.p99 < a.p99 ? b : a));
    return { ...best, p99Runs: atLoad.map((r) => r.p99) };
  });
}

/**
 * Paced at the lowest load before anything is measured, so JIT compilation and the first
 * fetches are not in the figures (they take a couple of seconds at these rates).
 */
export const WARMUP_S = 3;
const DRAIN_MS = 30_000;

/**
 * End-to-end latency of one system at each offered load, in one long-running process as a
 * deployment would have it: a pacer process fills the system's input topic at a fixed rate
 * (a warm-up, then each load in turn, with distinct ids) and a consumer here timestamps
 * each output as it arrives. Latency = arrival − the moment the pacer produced the record.
 */
export async function runLatency(setup: RowSetup, system: System, loads: readonly number[], seconds: number, lingerMs: number, tag: string): Promise<LatencyResult[]> {
  const inputTopic = `${tag}-input`;
  const topics = [`${tag}-predictions`, `${tag}-errors`];
  for (const t of [inputTopic, ...topics]) await setup.broker.command(`topic ${t} ${setup.partitions}`);
  const child = startChild(system.args, {
    ...system.env,
    KAFKA_BOOTSTRAP_SERVER: setup.broker.bootstrap,
    KAFKA_INCOMING_MSG_TOPIC: inputTopic,
    KAFKA_PREDICTIONS_TOPIC: topics[0]!,
    KAFKA_ERRORS_TOPIC: topics[1]!,
    KAFKA_GROUP_ID: `${tag}-group`,
    KAFKA_STARTING_OFFSET: 'earliest',
  }, setup.cwd);
  const work = mkdtempSync(join(tmpdir(), 'mlstream-bench-'));
  const byPrefix = new Map<string, Output[]>();
  let collector: { stop(): Promise<void> } | undefined;
  try {
    await child.waitForLog((l) => l.msg === 'joined consumer group', 60_000);
    collector = await collect(setup.kafka, topics, (outputs) => {
      for (const o of outputs) {
        const prefix = o.key.slice(0, o.key.indexOf('-') + 1);
        let list = byPrefix.get(prefix);
        if (!list) byPrefix.set(prefix, (list = []));
        list.push(o);
      }
    });
    const pace = (prefix: string, rate: number, s: number): Promise<Paced> =>
      paced(setup, child, inputTopic, join(work, `${prefix}times`), [prefix, String(lingerMs)], rate, s, () => byPrefix.get(prefix) ?? []);
    const warm = await pace('w-', loads[0] ?? 1000, WARMUP_S);
    if (!warm.ids.ok) return [{ ...warm, system, offered: loads[0] ?? 1000 }];
    const results: LatencyResult[] = [];
    for (const rate of loads) results.push({ ...(await pace(`l${rate}-`, rate, seconds)), system, offered: rate });
    return results;
  } finally {
    await collector?.stop();
    await child.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

type Paced = Omit<LatencyResult, 'system' | 'offered'>;

async function paced(
  setup: RowSetup,
  child: Child,
  topic: string,
  timesFile: string,
  [prefix, lingerMs]: [string, string],
  rate: number,
  seconds: number,
  seen: () => readonly Output[],
): Promise<Paced> {
  const pacer = startChild(['--import', 'tsx', 'scripts/bench/pacer.ts', setup.broker.bootstrap, topic, String(rate), String(seconds), timesFile, prefix, lingerMs], {}, setup.cwd);
  // CPU is counted from the first output on: the pacer's own start-up is no load yet.
  let firstAt: { cpu: number; ms: number } | undefined;
  while (pacer.exitCode() === null) {
    if (!firstAt && seen().length > 0) firstAt = { cpu: cpuSeconds(child.pid), ms: Date.now() };
    await sleep(20);
  }
  if (pacer.exitCode() !== 0) throw new Error(`pacer failed (${pacer.exitCode()}):\n${pacer.logs.join('\n')}`);
  const { sent } = JSON.parse(pacer.logs.find((l) => l.startsWith('{')) ?? '{}') as { sent: number };
  const drainUntil = Date.now() + DRAIN_MS;
  while (seen().length < sent && Date.now() < drainUntil) await sleep(20);
  firstAt ??= { cpu: cpuSeconds(child.pid), ms: Date.now() };
  const cores = (cpuSeconds(child.pid) - firstAt.cpu) / Math.max(0.001, (Date.now() - firstAt.ms) / 1000);
  return summarize(seen(), new Float64Array(readFileSync(timesFile).buffer.slice(0)), prefix, cores);
}

function summarize(seen: readonly Output[], sentAt: Float64Array, prefix: string, cores: number): Paced {
  const start = sentAt[0]!;
  const latencies: number[] = [];
  const written: number[] = [];
  let lastArrival = start;
  for (const o of seen) {
    const sent = sentAt[Number(o.key.slice(prefix.length))];
    if (sent === undefined) continue;
    lastArrival = Math.max(lastArrival, o.arrivedAt);
    latencies.push(o.arrivedAt - sent);
    written.push(o.timestamp - sent);
  }
  latencies.sort((a, b) => a - b);
  written.sort((a, b) => a - b);
  const quantile = (values: readonly number[], q: number): number => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? NaN;
  const at = (q: number): number => quantile(latencies, q);
  return {
    deliveredPerS: seen.length / ((lastArrival - start) / 1000),
    drainMs: lastArrival - sentAt[sentAt.length - 1]!,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    writtenP50: quantile(written, 0.5),
    writtenP99: quantile(written, 0.99),
    samples: latencies.length,
    cores,
    ids: checkIds(seen, Array.from({ length: sentAt.length }, (_, i) => `${prefix}${i}`)),
  };
}
