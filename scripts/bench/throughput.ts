import type { Admin, Kafka } from 'kafkajs';
import { cpuSeconds, machineCpu, peakRssMiB, poolThreadIds, startChild, threadCpuSeconds, type Child } from './child.js';
import { checkIds, countMessages, readAll, type IdCheck } from './outputs.js';
import type { LocalBroker } from '../broker/index.js';

/** A process that consumes the input topic and writes predictions/errors: mlstream or a baseline. */
export interface System {
  readonly key: string;
  readonly label: string;
  /** Node arguments (script and its arguments), or `command`'s when that is set. */
  readonly args: string[];
  /** The executable when it is not node (the Python row). */
  readonly command?: string;
  /** The input topic when it is not the text records' (the tabular row). */
  readonly inputTopic?: string;
  /** Why this system cannot run here (a missing fixture or interpreter): its row reports it. */
  readonly unavailable?: string;
  readonly env: Record<string, string>;
  /** For a variant: the settings it changes. */
  readonly changed?: Record<string, string>;
}

export interface RowResult {
  readonly system: System;
  readonly records: number;
  /** Spawn to the last output's produce timestamp. */
  readonly wallS: number;
  /** Spawn to the first output: start-up, package load and the group's first join. */
  readonly firstOutputS: number;
  /** Outputs after the first slice, per second from the first output to the last. */
  readonly steadyPerS: number;
  /** The steady throughput of every repetition, when the row was run more than once (this one is the best). */
  readonly steadyRuns?: readonly number[];
  readonly cpuS: number;
  /** CPU the process spent from its first output to its last, per record. */
  readonly cpuUsPerRecord: number;
  /**
   * The process's CPU per record from its first output to its last, by thread: the main thread,
   * the runtime's pool workers (their OS thread ids from its log), and the rest — V8's helper
   * threads (concurrent and parallel garbage collection, the optimizing compiler) and libuv's.
   */
  readonly threadUsPerRecord: { readonly main: number; readonly pool: number; readonly other: number };
  readonly peakRssMiB: number;
  /** CPU the local broker spent from the process's start to its last output. */
  readonly brokerCpuS: number;
  /**
   * The whole machine from the first output to the last (every process and the kernel):
   * the share of all its cores' time that was busy, and busy CPU µs per record output in
   * that window. Near 100%, the row is bounded by the machine's CPU; well below, by waiting.
   */
  readonly machineBusyShare: number;
  readonly machineUsPerRecord: number;
  readonly predictions: number;
  readonly errors: number;
  readonly ids: IdCheck;
  readonly exitCode: number | null;
}

export interface RowSetup {
  readonly broker: LocalBroker;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly inputTopic: string;
  readonly partitions: number;
  readonly records: number;
  readonly expectedIds: () => Iterable<string>;
  readonly cwd: string;
  /** Give up when no output arrived for this long. */
  readonly stallMs: number;
}

const POLL_MS = 100;

/**
 * Runs one system over the preloaded input: fresh output topics and a fresh consumer
 * group, polled until every record has an output, then the outputs are read back and
 * every id checked. CPU and peak RSS come from /proc while the process still runs.
 */
export async function runRow(setup: RowSetup, system: System, tag: string): Promise<RowResult> {
  if (system.unavailable) throw new Error(system.unavailable);
  const predictionsTopic = `${tag}-predictions`;
  const errorsTopic = `${tag}-errors`;
  await setup.broker.command(`topic ${predictionsTopic} ${setup.partitions}`);
  await setup.broker.command(`topic ${errorsTopic} ${setup.partitions}`);
  const child = startChild(system.args, {
    ...system.env,
    KAFKA_BOOTSTRAP_SERVER: setup.broker.bootstrap,
    KAFKA_INCOMING_MSG_TOPIC: system.inputTopic ?? setup.inputTopic,
    KAFKA_PREDICTIONS_TOPIC: predictionsTopic,
    KAFKA_ERRORS_TOPIC: errorsTopic,
    KAFKA_GROUP_ID: `${tag}-group`,
    KAFKA_STARTING_OFFSET: 'earliest',
  }, setup.cwd, system.command);
  const topics = [predictionsTopic, errorsTopic];
  const brokerCpuBefore = cpuSeconds(setup.broker.pid);
  let brokerCpu = 0;
  let cpuAtFirst: number | undefined;
  let cpuAtEnd = 0;
  let threadsAtFirst = new Map<number, number>();
  let threadsAtEnd = new Map<number, number>();
  // The child keeps only its last log lines: the pool's 'ready' lines are read while they are still there, too.
  let poolThreads = new Set<number>();
  let machineAtFirst: { busyS: number; totalS: number; count: number } | undefined;
  let machine = { share: NaN, usPerRecord: NaN };
  let rss = 0;
  let exitCode: number | null;
  try {
    let last = 0;
    let lastChange = Date.now();
    for (;;) {
      const cpu = cpuSeconds(child.pid);
      const count = await countMessages(setup.admin, topics);
      if (count > 0 && cpuAtFirst === undefined) {
        cpuAtFirst = cpu;
        threadsAtFirst = threadCpuSeconds(child.pid);
        poolThreads = poolThreadIds(child.logs);
        machineAtFirst = { ...machineCpu(), count };
      }
      if (count !== last) {
        last = count;
        lastChange = Date.now();
      }
      if (count >= setup.records) {
        cpuAtEnd = cpuSeconds(child.pid);
        threadsAtEnd = threadCpuSeconds(child.pid);
        const m = machineCpu();
        if (machineAtFirst && m.totalS > machineAtFirst.totalS && count > machineAtFirst.count) {
          const busy = m.busyS - machineAtFirst.busyS;
          // The idle counter may step back a tick under full load: a share is at most 1.
          machine = { share: Math.min(1, busy / (m.totalS - machineAtFirst.totalS)), usPerRecord: (busy * 1e6) / (count - machineAtFirst.count) };
        }
        rss = peakRssMiB(child.pid);
        brokerCpu = cpuSeconds(setup.broker.pid) - brokerCpuBefore;
        break;
      }
      if (Date.now() - lastChange > setup.stallMs) throw new Error(`${system.label}: no progress for ${setup.stallMs} ms at ${count}/${setup.records} outputs\n${child.logs.slice(-15).join('\n')}`);
      const exited = await Promise.race([child.exited.then(() => true), sleep(POLL_MS).then(() => false)]);
      if (exited) throw new Error(`${system.label} exited at ${count}/${setup.records} outputs; its last line: ${child.logs.at(-1) ?? '(none)'}\n${child.logs.slice(-15).join('\n')}`);
    }
  } finally {
    exitCode = await child.stop();
  }
  const outputs = await readAll(setup.kafka, setup.admin, topics);
  for (const tid of poolThreadIds(child.logs)) poolThreads.add(tid);
  const threads = byThread(child.pid, poolThreads, threadsAtFirst, threadsAtEnd, setup.records);
  return summarize(setup, system, child, errorsTopic, outputs, { cpuS: cpuAtEnd, cpuAtFirst: cpuAtFirst ?? 0, threads, rss, brokerCpu, machine, exitCode });
}

/** CPU µs per record of the main thread, the pool threads and the rest, between two snapshots. */
function byThread(pid: number, pool: ReadonlySet<number>, first: ReadonlyMap<number, number>, end: ReadonlyMap<number, number>, records: number): RowResult['threadUsPerRecord'] {
  const us = { main: 0, pool: 0, other: 0 };
  for (const [tid, s] of end) {
    const spent = ((s - (first.get(tid) ?? 0)) * 1e6) / records;
    if (tid === pid) us.main += spent;
    else if (pool.has(tid)) us.pool += spent;
    else us.other += spent;
  }
  return us;
}

function summarize(
  setup: RowSetup,
  system: System,
  child: Child,
  errorsTopic: string,
  outputs: Awaited<ReturnType<typeof readAll>>,
  m: { cpuS: number; cpuAtFirst: number; threads: RowResult['threadUsPerRecord']; rss: number; brokerCpu: number; machine: { share: number; usPerRecord: number }; exitCode: number | null },
): RowResult {
  let first = Infinity;
  let last = -Infinity;
  for (const o of outputs) {
    if (o.timestamp < first) first = o.timestamp;
    if (o.timestamp > last) last = o.timestamp;
  }
  // The first slice's outputs share the first timestamp; the steady rate counts what came after.
  const inFirst = outputs.filter((o) => o.timestamp === first).length;
  const steadyPerS = last > first ? (outputs.length - inFirst) / ((last - first) / 1000) : NaN;
  const errors = outputs.filter((o) => o.topic === errorsTopic).length;
  return {
    system,
    records: setup.records,
    wallS: (last - child.startedAt) / 1000,
    firstOutputS: (first - child.startedAt) / 1000,
    steadyPerS,
    cpuS: m.cpuS,
    cpuUsPerRecord: ((m.cpuS - m.cpuAtFirst) * 1e6) / setup.records,
    threadUsPerRecord: m.threads,
    peakRssMiB: m.rss,
    brokerCpuS: m.brokerCpu,
    machineBusyShare: m.machine.share,
    machineUsPerRecord: m.machine.usPerRecord,
    predictions: outputs.length - errors,
    errors,
    ids: checkIds(outputs, setup.expectedIds()),
    exitCode: m.exitCode,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
