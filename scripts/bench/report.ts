import { WARMUP_S, type LatencyResult } from './latency.js';
import type { ProfileSummary } from './profile.js';
import type { Sweep } from './stages.js';
import type { StartupResult } from './startup.js';
import type { RowResult, System } from './throughput.js';
import { textSliceRecords } from './analysis.js';

export type Outcome<T> =
  | { readonly ok: true; readonly result: T }
  /** `notRun`: the system cannot run on this machine (System.unavailable says why); not a failure. */
  | { readonly ok: false; readonly system: System; readonly detail: string; readonly error: string; readonly notRun?: boolean };

export interface Environment {
  readonly command: string;
  readonly date: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly loadAverage: string;
  readonly records: number;
  /** Records the iris rows read (their own topic). */
  readonly irisRecords: number;
  readonly partitions: number;
  readonly corpusMails: number;
  readonly meanRecordBytes: number;
  readonly sliceSize: number;
  /** SLICE_BYTES: with sliceSize, whichever comes first cuts a slice. */
  readonly sliceBytes: number;
  readonly repeat: number;
  readonly lingerMs: number;
  /** Runs per latency system (the lowest p99 per load is shown). */
  readonly latencyRepeat?: number;
  readonly runtimeEnv: Record<string, string>;
}

export interface Targets {
  /** spam-text's steady throughput as a share of the kafkajs pipe's. */
  readonly throughputShare: number;
  /** spam-text's steady throughput as a multiple of the batched Python + scikit-learn consumer's. */
  readonly pythonFactor: number;
  /** The iris tree's steady throughput as a share of the kafkajs pipe's. */
  readonly irisShare: number;
  /** The iris tree on the second (librdkafka) client, records/s. */
  readonly irisFastClientPerS: number;
  readonly firstOutputS: number;
  readonly p99Ms: number;
  readonly p99AtLoad: number;
  /** The issue's "200 MB", in megabytes (10^6 bytes); peak RSS is measured in MiB. */
  readonly rssMB: number;
}

export const TARGETS: Targets = { throughputShare: 0.8, pythonFactor: 3, irisShare: 0.95, irisFastClientPerS: 100_000, firstOutputS: 1, p99Ms: 50, p99AtLoad: 5000, rssMB: 200 };

export interface SliceChoice {
  /** The configured default. */
  readonly size: number;
  /** Markdown table: throughput and RSS by SLICE_SIZE, with and without broker latency, and the event-loop hold. */
  readonly table: readonly string[];
}

export interface ReportData {
  readonly env: Environment;
  readonly rows: readonly Outcome<RowResult>[];
  readonly variants: readonly Outcome<RowResult>[];
  readonly startup: Outcome<StartupResult[]> | undefined;
  readonly latency: readonly Outcome<LatencyResult>[];
  readonly sweeps: readonly Sweep[];
  readonly slice: SliceChoice | undefined;
  /** CPU profiles of rows run again under `node --cpu-prof`, each with its row's label. */
  readonly profiles: ReadonlyArray<{ readonly label: string } & ({ readonly summary: ProfileSummary; readonly row: RowResult } | { readonly error: string })>;
  readonly chartFile: string;
  readonly totalS: number;
}

const WARMUP_NOTE = `${WARMUP_S} s`;

const f0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');
const pct = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : '–');
const idsCell = (r: { ids: { ok: boolean; missing: number; duplicated: number; unexpected: number; mismatched: number } }): string =>
  r.ids.ok ? 'all once' : `**FAILED**: ${r.ids.missing} missing, ${r.ids.duplicated} duplicated, ${r.ids.unexpected} unexpected, ${r.ids.mismatched} mismatched`;

function rowTable(rows: readonly Outcome<RowResult>[], base: number, numbered: boolean): string[] {
  const lines = [
    '| | system | wall s | first output s | steady records/s | vs (1) | all runs, records/s | CPU s | CPU µs/record | peak RSS MiB | broker CPU s | machine busy | machine CPU µs/record | predictions / errors | ids |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  rows.forEach((o, i) => {
    const n = numbered ? `(${i + 1})` : '';
    if (!o.ok) {
      lines.push(`| ${n} | ${o.system.label} | ${o.notRun ? 'not run' : '**FAILED**'}: ${o.error.split('\n')[0]} | | | | | | | | | | | | |`);
      return;
    }
    const r = o.result;
    lines.push(
      `| ${n} | ${r.system.label} | ${f1(r.wallS)} | ${f1(r.firstOutputS)} | ${f0(r.steadyPerS)} | ${pct(r.steadyPerS / base)} | ${(r.steadyRuns ?? [r.steadyPerS]).map(f0).join(', ')} | ${f1(r.cpuS)} | ${f0(r.cpuUsPerRecord)} | ${f0(r.peakRssMiB)} | ${r.brokerCpuS.toFixed(2)} | ${pct(r.machineBusyShare)} | ${f0(r.machineUsPerRecord)} | ${f0(r.predictions)} / ${f0(r.errors)} | ${idsCell(r)} |`,
    );
  });
  return lines;
}

function threadTable(rows: readonly Outcome<RowResult>[]): string[] {
  const lines = ['| system | main thread | pool workers | other threads | all |', '|---|--:|--:|--:|--:|'];
  for (const o of rows) {
    if (!o.ok) continue;
    const { main, pool, other } = o.result.threadUsPerRecord;
    lines.push(`| ${o.result.system.label} | ${f0(main)} | ${pool > 0 ? f0(pool) : '–'} | ${f0(other)} (${pct(other / (main + pool + other))}) | ${f0(main + pool + other)} |`);
  }
  return lines;
}

function targetLines(d: ReportData): string[] {
  const row = (key: string): RowResult | undefined => {
    const o = d.rows.find((r) => r.ok && r.result.system.key === key);
    return o?.ok ? o.result : undefined;
  };
  const pipe = row('plain')?.steadyPerS ?? NaN;
  const spark = row('spark');
  const sparkPerS = spark?.steadyPerS ?? NaN;
  const python = row('sklearn')?.steadyPerS ?? NaN;
  const iris = row('iris')?.steadyPerS ?? NaN;
  // "With the faster client": whichever of the two iris rows ran faster in this run.
  const irisRows = [
    { client: 'kafkajs', r: row('iris') },
    { client: 'librdkafka', r: row('iris-librdkafka') },
  ].filter((c): c is { client: string; r: RowResult } => c.r !== undefined);
  const faster = irisRows.sort((a, b) => b.r.steadyPerS - a.r.steadyPerS)[0];
  const irisFast = faster?.r.steadyPerS ?? NaN;
  const lat = d.latency.find((o) => o.ok && o.result.system.key === 'spark' && o.result.offered === TARGETS.p99AtLoad);
  const p99 = lat?.ok ? lat.result.p99 : NaN;
  const pipeLat = d.latency.find((o) => o.ok && o.result.system.key === 'plain' && o.result.offered === TARGETS.p99AtLoad);
  const pipeP99 = pipeLat?.ok ? `; the bare kafkajs pipe at the same load: p99 ${f1(pipeLat.result.p99)} ms${runsNote(pipeLat.result)} (${f1(pipeLat.result.writtenP99)} ms to its output's producer timestamp)` : '';
  const writtenP99 = lat?.ok ? `; p99 to the output's producer timestamp ${f1(lat.result.writtenP99)} ms, the rest being the broker and the measuring consumer` : '';
  // What two cores allow the librdkafka client at all: the bare librdkafka pipe's whole-machine CPU per record.
  const rdPipe = row('librdkafka');
  const rdBound = rdPipe && Number.isFinite(rdPipe.machineUsPerRecord) ? (d.env.cores * 1e6) / rdPipe.machineUsPerRecord : NaN;
  const rdCeiling = Number.isFinite(rdBound)
    ? `; the bare librdkafka pipe (no model) costs ${f0(rdPipe!.machineUsPerRecord)} µs of machine CPU per record (its process, the broker, the kernel), so ${d.env.cores} cores fully busy would carry at most ${f0(rdBound)} records/s of it`
    : '';
  // Where the faster client's row stood against the machine: its machine CPU per record, what 2 cores could carry at that cost, how busy the row kept them.
  const fasterBound = faster && Number.isFinite(faster.r.machineUsPerRecord) ? (d.env.cores * 1e6) / faster.r.machineUsPerRecord : NaN;
  const fasterCeiling =
    faster?.client === 'librdkafka'
      ? rdCeiling
      : faster && Number.isFinite(fasterBound)
        ? `; its row cost ${f0(faster.r.machineUsPerRecord)} µs of machine CPU per record (its process, the broker, the kernel), which ${d.env.cores} cores fully busy would carry ${f0(fasterBound)} times a second, and kept the machine ${pct(faster.r.machineBusyShare)} busy: ${faster.r.machineBusyShare < 0.9 ? 'bound by waiting on the broker (each slice produced, acknowledged and committed before the partition\'s next), not by the machine\'s CPU' : 'bound by the machine\'s CPU'}${Number.isFinite(rdBound) ? `; the bare librdkafka pipe's machine CPU caps that client at ${f0(rdBound)} records/s` : ''}`
        : '';
  const pipeRss = row('plain') ? `; the bare kafkajs pipe (no model, no worker): ${f0(row('plain')!.peakRssMiB)} MiB` : '';
  const share = sparkPerS / pipe;
  const irisShare = iris / pipe;
  const factor = sparkPerS / python;
  const compiled = d.startup?.ok ? d.startup.result[0]?.seconds : undefined;
  // The dedicated start-up measurement when it ran (its median), else the throughput row's first output.
  const first = compiled?.length ? median(compiled) : (spark?.firstOutputS ?? NaN);
  const rss = spark?.peakRssMiB ?? NaN;
  const rssTargetMiB = (TARGETS.rssMB * 1e6) / 1048576;
  // NaN (a row not run or failed) is reported as not measured rather than as missed.
  const status = (value: number, met: boolean, miss: string): string => (Number.isNaN(value) ? 'not measured in this run' : met ? 'met' : `**missed**: ${miss}`);
  const shareOfPipe = (perS: number, target: number): string =>
    `by ${Math.round((target - perS / pipe) * 100)} points; it would need ${f1((target * pipe) / perS)}× its throughput`;
  return [
    '| target (2 cores, local broker) | measured | |',
    '|---|--:|---|',
    `| mlstream + spam-text ≥ ${pct(TARGETS.throughputShare)} of the kafkajs pipe | ${pct(share)} (${f0(sparkPerS)} of ${f0(pipe)} records/s) | ${status(share, share >= TARGETS.throughputShare, shareOfPipe(sparkPerS, TARGETS.throughputShare))} |`,
    `| mlstream + spam-text ≥ ${TARGETS.pythonFactor}× the batched Python + scikit-learn consumer | ${f1(factor)}× (${f0(sparkPerS)} vs ${f0(python)} records/s) | ${status(factor, factor >= TARGETS.pythonFactor, `it would need ${f1(TARGETS.pythonFactor / factor)}× its throughput`)} |`,
    `| mlstream + iris tree ≥ ${pct(TARGETS.irisShare)} of the kafkajs pipe | ${pct(irisShare)} (${f0(iris)} of ${f0(pipe)} records/s) | ${status(irisShare, irisShare >= TARGETS.irisShare, shareOfPipe(iris, TARGETS.irisShare))} |`,
    `| mlstream + iris tree with the faster client${faster ? ` (${faster.client} in this run)` : ''} ≥ ${f0(TARGETS.irisFastClientPerS)} records/s | ${f0(irisFast)} records/s (${pct(irisFast / pipe)} of the kafkajs pipe) | ${status(irisFast, irisFast >= TARGETS.irisFastClientPerS, `by ${f0(TARGETS.irisFastClientPerS - irisFast)} records/s; the kafkajs pipe itself reaches ${f0(pipe)} on this broker${fasterCeiling}`)} |`,
    `| first output ≤ ${TARGETS.firstOutputS} s after the process starts (spam-text) | ${first.toFixed(2)} s | ${status(first, first <= TARGETS.firstOutputS, `by ${(first - TARGETS.firstOutputS).toFixed(2)} s`)} |`,
    `| p99 ≤ ${TARGETS.p99Ms} ms at ${f0(TARGETS.p99AtLoad)} records/s (spam-text) | ${f1(p99)} ms${lat?.ok ? runsNote(lat.result) : ''} | ${status(p99, p99 <= TARGETS.p99Ms, `by ${f1(p99 - TARGETS.p99Ms)} ms (${f1(p99 / TARGETS.p99Ms)}× the target)${writtenP99}${pipeP99}`)} |`,
    `| peak RSS ≤ ${TARGETS.rssMB} MB (${f1(rssTargetMiB)} MiB; spam-text) | ${f0(rss)} MiB | ${status(rss, rss <= rssTargetMiB, `by ${f0(rss - rssTargetMiB)} MiB${pipeRss}`)} |`,
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function startupLines(startup: Outcome<StartupResult[]>): string[] {
  if (!startup.ok) return [`The start-up measurement failed: ${startup.error.split('\n')[0]}`];
  return [
    'From spawning `mlstream serve` to its first prediction, one record already waiting in a single-partition topic, fresh consumer group each time: module loading, the package load and check with its warm-up run, the group join and the first slice are all inside (the prediction\'s producer timestamp minus the spawn time).',
    '',
    '| | each round, s | median s |',
    '|---|--:|--:|',
    ...startup.result.map((r) => `| ${r.label} | ${r.seconds.map((s) => s.toFixed(2)).join(', ')} | ${median(r.seconds).toFixed(2)} |`),
  ];
}

/** Every run's p99, when there were several: " (every run: a, b)". */
function runsNote(r: LatencyResult): string {
  return r.p99Runs && r.p99Runs.length > 1 ? ` (every run: ${r.p99Runs.map(f1).join(', ')})` : '';
}

function latencyTable(latency: readonly Outcome<LatencyResult>[]): string[] {
  const lines = [
    '| system | offered records/s | delivered records/s | p50 ms | p95 ms | p99 ms | max ms | to the output\'s producer timestamp: p50 / p99 ms | last output after last send, ms | CPU cores used | ids |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const o of latency) {
    if (!o.ok) {
      lines.push(`| ${o.system.label} | ${o.detail} | **FAILED**: ${o.error.split('\n')[0]} | | | | | | | | |`);
      continue;
    }
    const r = o.result;
    lines.push(`| ${r.system.label} | ${f0(r.offered)} | ${f0(r.deliveredPerS)} | ${f1(r.p50)} | ${f1(r.p95)} | ${f1(r.p99)}${runsNote(r)} | ${f1(r.max)} | ${f1(r.writtenP50)} / ${f1(r.writtenP99)} | ${f0(r.drainMs)} | ${r.cores.toFixed(2)} | ${idsCell(r)} |`);
  }
  return lines;
}

function sweepTable(s: Sweep): string[] {
  // A fused stage's uid joins the uids of the stages it runs with '+'.
  const short = s.stages.map((uid) => uid.split('+').map((part) => part.replace(/_[0-9a-f]{12}$/, '')).join(' + '));
  const lines = [
    `**${s.packageName}** — µs per record (${f0(s.points[0]?.records ?? 0)} records per batch size; of ${s.rounds} passes over all sizes, the one with the least CPU). CPU is the process's CPU time, GC threads included; the other columns are wall time, the stages' as the pipeline times them.`,
    '',
    `| batch size | CPU | total | decode + validate + outputs | ${short.join(' | ')} | ms per batch (median) |`,
    `|--:|--:|--:|--:|${short.map(() => '--:').join('|')}|--:|`,
  ];
  for (const p of s.points) {
    lines.push(`| ${p.batchSize} | ${f1(p.cpuUs)} | ${f1(p.totalUs)} | ${f1(p.engineUs)} | ${p.stageUs.map(([, us]) => f1(us)).join(' | ')} | ${f1(p.batchMs)} |`);
  }
  return lines;
}

function profileLines(p: ReportData['profiles'][number]): string[] {
  if ('error' in p) return [`**${p.label}**: the profile could not be taken: ${p.error}`];
  return [
    `**${p.label}** — \`node --cpu-prof\` on its mlstream process (the row run again for the profile: ${f0(p.row.steadyPerS)} records/s with the profiler on), samples from its first decoded record to its last, all threads, idle excluded — ${f0(p.summary.busyMs)} ms busy:`,
    '',
    '| where | self time |',
    '|---|--:|',
    ...p.summary.byArea.map((e) => `| ${e.name} | ${pct(e.selfShare)} |`),
    '',
    'Top functions by self time:',
    '',
    '| function | file | self time |',
    '|---|---|--:|',
    ...p.summary.top.map((e) => `| \`${e.name}\` | ${e.file ?? ''} | ${pct(e.selfShare)} |`),
  ];
}

export function renderReport(d: ReportData, analysis: readonly string[], recommendations: readonly string[]): string {
  const first = d.rows[0];
  const base = first?.ok ? first.result.steadyPerS : NaN;
  const e = d.env;
  const settings = Object.entries(e.runtimeEnv).map(([k, v]) => `\`${k}=${v}\``).join(', ');
  return [
    '# Benchmarks',
    '',
    `Produced by \`${e.command}\` on ${e.date} in ${f0(d.totalS)} s: ${e.cores} cores (${e.cpuModel}), Node ${e.node}, load average (1 / 5 / 15 min) ${e.loadAverage} ` +
      `(other work on the machine inflates every figure alike; the ratios to row (1) are what compare). Local broker (\`scripts/broker\`, librdkafka's mock cluster) on the same machine. ` +
      `Input: ${f0(e.records)} records of the SpamAssassin corpus (${e.corpusMails} mails repeated with fresh ids, ${f0(e.meanRecordBytes)} bytes per record on average) preloaded into ${e.partitions} partitions before timing starts. ` +
      `Every process runs with the runtime's defaults plus ${settings} — the local broker keeps a rebalance open for the session timeout; like a real broker, it answers a waiting fetch as soon as data arrives (\`scripts/broker/patch-fetch-wait.mjs\`), so the fetch wait is the runtime's default and costs no latency. ` +
      `The baselines (\`scripts/bench/pipe.ts\` with kafkajs, \`pipe-client.ts\` on the runtime's client interface with KAFKA_CLIENT=librdkafka, \`pipe-platformatic.ts\` with @platformatic/kafka, \`sklearn_pipe.py\` with kafka-python and scikit-learn) read the same settings and use the runner's fetch limits, slices (${e.sliceSize} records or ${f0(e.sliceBytes / 1024)} KiB of values, whichever comes first), acks=all producer and one commit per slice (per poll for Python). ` +
      `The iris rows read their own topic of ${f0(e.irisRecords)} records, each four doubles (the sample rows of a real Spark decision-tree export, cycled)${e.irisRecords !== e.records ? `: more than the text rows, since so many fewer bytes would leave an iris row a steady window of well under a second` : ''}.`,
    '',
    `![Steady throughput by row and latency by offered load](${d.chartFile})`,
    '',
    '## Targets',
    '',
    ...targetLines(d),
    '',
    '## Throughput',
    '',
    `Wall time runs from starting the process to its last output (producer timestamps); steady throughput counts the outputs after the first slice, from the first output to the last, so start-up and the consumer group's first join are left out. CPU and peak RSS (VmHWM) are the process's own, from /proc; CPU µs/record counts from the first output on; broker CPU is the local broker's during the row. Machine busy is the share of all the machine's cores busy (every process and the kernel, from /proc/stat) from the first output to the last, and machine CPU µs/record that busy time per record output then: near 100%, a row is bounded by the machine's CPU; well below it, by waiting. ` +
      `Each row ran ${e.repeat} time(s) over the same preloaded records with a fresh consumer group, the repetitions going round all rows in turn; the best run is shown (other work on the machine only ever slows a run down) and every run's throughput is listed. Every input id is checked to appear exactly once in predictions ∪ errors, in every run.`,
    '',
    ...rowTable(d.rows, base, true),
    '',
    ...(d.variants.length
      ? ['### Runtime settings tried', '', 'mlstream rows again (spam-text unless the label names another), with settings changed through the environment:', '', ...rowTable(d.variants, base, false), '']
      : []),
    '### CPU by thread',
    '',
    "The CPU µs/record column split by the process's threads (/proc/<pid>/task, from the first output to the last; the best run of each row). The runtime's pool workers are known by the OS thread id each logs when it is ready; \"other\" is every remaining thread: V8's helpers (concurrent and parallel garbage collection, the optimizing compiler) and libuv's. A Node process runs its JavaScript on the main thread (and mlstream's on its pool workers as well), so \"other\" is the work V8 does beside it.",
    '',
    ...threadTable([...d.rows, ...d.variants]),
    '',
    ...(d.startup ? ['## Start-up', '', ...startupLines(d.startup), ''] : []),
    '## Latency',
    '',
    `A separate process (\`scripts/bench/pacer.ts\`) produces records at a fixed rate into a fresh topic, sending what is due every ${e.lingerMs} ms as a producer with that linger would; a consumer in the benchmark process timestamps each output as it arrives. ` +
      `Latency = arrival − the moment the record was due, so the linger counts; the column "to the output's producer timestamp" stops instead where the system's Kafka producer took the output (whole milliseconds), so what is left of the latency is the broker and the measuring consumer, the same for every row. Each system runs as one process through a ${WARMUP_NOTE} warm-up and then every load in turn. ` +
      ((e.latencyRepeat ?? 1) > 1
        ? `Each system ran ${e.latencyRepeat} times, the runs going round all systems in turn; per load the run with the lowest p99 is shown and every run's p99 listed beside it (other work on the machine only ever adds latency, as it only ever takes throughput away). `
        : '') +
      'Like a real broker, the local broker returns every stored batch that fits a fetch\'s byte limits (its Fetch is patched to: `scripts/broker/patch-fetch.mjs`; unpatched it returned one producer batch per partition per fetch, and even the plain pipe fell behind at 5,000 records/s), so a system that falls behind for a moment catches up with bigger fetches; one that falls behind for good cannot process the offered rate at all.',
    '',
    ...latencyTable(d.latency),
    '',
    '## Where the time goes',
    '',
    'In one process, without Kafka: the package loaded with `loadPackage`, `processBatch` (what the runner calls per slice) over the corpus in batches of each size; stage times are the pipeline\'s own per-stage timings. As in `serve` without a sink or the dashboard, no prediction records are built, so a text package\'s plain JSON records are read from their bytes: the text stages\' work on those happens while the record is read and counts in the decode column (docs/performance.md, "From the message\'s bytes").',
    '',
    ...d.sweeps.flatMap((s) => [...sweepTable(s), '']),
    ...(d.slice
      ? [
          `**Slice size** (default SLICE_SIZE ${d.slice.size}, with SLICE_BYTES ${f0(d.env.sliceBytes / 1024)} KiB cutting the mails' slices first, at about ${f0(textSliceRecords(d.env, d.env.meanRecordBytes))} records at their mean size). Smaller slices keep less in memory and hold the event loop (heartbeats, other partitions, HTTP) for less; bigger ones pay fewer produce and commit round trips. mlstream with spam-text by SLICE_SIZE, end to end:`,
          '',
          ...d.slice.table,
          '',
        ]
      : []),
    ...(d.profiles.length ? ['## Profile', '', ...d.profiles.flatMap((p) => [...profileLines(p), '']), ''] : []),
    ...(analysis.length ? ['## What limits it', '', ...analysis, ''] : []),
    ...(recommendations.length ? ['## Recommended runner changes', '', ...recommendations, ''] : []),
  ].join('\n');
}
