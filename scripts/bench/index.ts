/**
 * `npm run bench [-- options]`: throughput, latency and memory of mlstream next to plain
 * kafkajs baselines, on the local broker, in one run; writes BENCHMARKS.md and a PNG chart.
 * Exits 1 when any run lost or duplicated a record (or failed outright); a row this machine
 * cannot run (no fixture, no Python, no shared protocol version) is reported as not run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../runtime/config.js';
import { startLocalBroker } from '../broker/index.js';
import { chartSvg, renderPng } from './chart.js';
import { inputMessage, loadCorpus, preload, recordId } from './corpus.js';
import { irisFixtureDir, irisMessages } from './iris.js';
import { preparePython } from './python.js';
import { brokerApiVersions, platformaticVersions, versionGaps } from './protocol-versions.js';
import { bestLatencies, runLatency, type LatencyResult } from './latency.js';
import { benchKafka } from './outputs.js';
import { summarizeProfile } from './profile.js';
import { analyze, runnerRecommendations, sliceSizeFindings, textSliceRecords } from './analysis.js';
import { renderReport, TARGETS, type Outcome, type ReportData } from './report.js';
import { stageSweep, type Sweep } from './stages.js';
import { measureStartup, type StartupResult } from './startup.js';
import { BENCH_ENV, IRIS_TOPIC, ONNX_PACKAGE, SYSTEM_KEYS, TEXT_PACKAGE, profiled, systems, variant, type PythonSetup, type SystemKey } from './systems.js';
import { runRow, type RowResult, type RowSetup, type System } from './throughput.js';

const HELP = `npm run bench -- [options]
  --records N           records preloaded for the throughput rows (default 50000)
  --iris-records N      records preloaded for the iris rows (default 4 × --records: at
                        50,000 such small records the row's steady window is under a second)
  --repeat N            runs per throughput row; the best is reported (default 2)
  --partitions N        partitions of every topic (default 4)
  --rows a,b            throughput rows, in order; the first is the baseline
                        (default ${SYSTEM_KEYS.join(',')})
  --startup-rounds N    start-up measurements (spawn → first prediction) per variant (default 3; 0 skips)
  --loads a,b           offered loads for latency, records/s (default 1000,2000,5000; "" skips)
  --latency-seconds S   paced seconds per load (default 10)
  --latency-repeat N    runs per latency system, going round the systems in turn; per load the
                        run with the lowest p99 is reported, every run's p99 listed (default 2)
  --latency-rows a,b    systems measured for latency (default plain,spark,onnx)
  --latency-variant K=V,K=V  an extra spark latency series with runtime env changed (repeatable; "none" for none)
  --linger-ms N         the pacer sends what is due every N ms, like a producer's linger (default 10)
  --batch-sizes a,b     batch sizes of the in-process stage sweep (default 50,100,250,500,1000,2000,5000)
  --sweep-records N     records per batch size in the sweep (default 10000)
  --variant K=V,K=V     an extra spark row with runtime env changed; BROKER_RTT_MS=N delays every
                        broker answer by N ms for that row (repeatable; "none" for none);
                        ROW:K=V varies another row instead, e.g. iris:SLICES_IN_FLIGHT=1
  --env K=V             runtime env for every process under test (repeatable)
  --profile auto|always|never  CPU-profile the spark and iris rows (auto: each whose throughput target is missed)
  --out FILE            markdown report (default BENCHMARKS.md)
  --chart FILE          PNG chart (default benchmarks.png)`;

const DEFAULT_VARIANTS = [
  'MLSTREAM_WORKERS=0',
  'SLICE_SIZE=100',
  // The slice size before SLICE_BYTES (250 records), on the row whose small records it changes.
  'iris:SLICE_SIZE=250',
  'KAFKA_PARTITIONS_CONCURRENTLY=1',
  'BROKER_RTT_MS=5',
  'BROKER_RTT_MS=5,SLICE_SIZE=100',
  'BROKER_RTT_MS=5,SLICES_IN_FLIGHT=2',
  'BROKER_RTT_MS=5,KAFKA_PARTITIONS_CONCURRENTLY=1',
];
const DEFAULT_LATENCY_VARIANTS = ['KAFKA_PARTITIONS_CONCURRENTLY=1'];

const { values: opts } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    'iris-records': { type: 'string' },
    repeat: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '4' },
    rows: { type: 'string', default: SYSTEM_KEYS.join(',') },
    loads: { type: 'string', default: '1000,2000,5000' },
    'startup-rounds': { type: 'string', default: '3' },
    'latency-seconds': { type: 'string', default: '10' },
    'latency-repeat': { type: 'string', default: '2' },
    'latency-rows': { type: 'string', default: 'plain,spark,onnx' },
    'linger-ms': { type: 'string', default: '10' },
    'latency-variant': { type: 'string', multiple: true },
    'batch-sizes': { type: 'string', default: '50,100,250,500,1000,2000,5000' },
    'sweep-records': { type: 'string', default: '10000' },
    variant: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    profile: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'BENCHMARKS.md' },
    chart: { type: 'string', default: 'benchmarks.png' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n${HELP}\n`);
  process.exit(2);
}
const positive = (name: string, s: string): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) usage(`--${name} takes a positive integer, got "${s}"`);
  return n;
};
const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
const numbers = (name: string, s: string): number[] => list(s).map((x) => positive(name, x));
if (!['auto', 'always', 'never'].includes(opts.profile)) usage(`--profile takes auto, always or never, got "${opts.profile}"`);
const pairs = (items: readonly string[]): Record<string, string> => Object.fromEntries(items.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const keys = (s: string): SystemKey[] =>
  list(s).map((k) => {
    if (!(SYSTEM_KEYS as readonly string[]).includes(k)) throw new Error(`unknown system "${k}" (known: ${SYSTEM_KEYS.join(', ')})`);
    return k as SystemKey;
  });
const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

const root = fileURLToPath(new URL('../..', import.meta.url));
const records = positive('records', opts.records);
const irisRecords = opts['iris-records'] === undefined ? 4 * records : positive('iris-records', opts['iris-records']);
const partitions = positive('partitions', opts.partitions);
const repeat = positive('repeat', opts.repeat);
const latencySeconds = positive('latency-seconds', opts['latency-seconds']);
const latencyRepeat = positive('latency-repeat', opts['latency-repeat']);
const lingerMs = positive('linger-ms', opts['linger-ms']);
const loads = numbers('loads', opts.loads);
const startupRounds = opts['startup-rounds'] === '0' ? 0 : positive('startup-rounds', opts['startup-rounds']);
const batchSizes = numbers('batch-sizes', opts['batch-sizes']);
const sweepRecords = positive('sweep-records', opts['sweep-records']);
const runtimeEnv = pairs(opts.env ?? []);
const variantSpecs = (opts.variant ?? DEFAULT_VARIANTS).filter((v) => v !== 'none');
const started = Date.now();
const loadAverage = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const work = mkdtempSync(join(os.tmpdir(), 'mlstream-bench-'));
const rowKeys = keys(opts.rows);
// The mlstream rows run bin/mlstream.js, which runs dist/: build it from these sources first.
log('building dist/ (npm run build)');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
let python: PythonSetup = { unavailable: 'not requested' };
if (rowKeys.includes('sklearn')) {
  try {
    python = await preparePython(root, work, log);
  } catch (e) {
    python = { unavailable: (e as Error).message };
    log(`Python row unavailable: ${python.unavailable}`);
  }
}
const all = systems(root, work, runtimeEnv, python);
/** What every process under test runs with, as the runtime itself reads it. */
const benchConfig = loadConfig({}, { ...process.env, ...BENCH_ENV, ...runtimeEnv });

async function attempt<T>(system: System, detail: string, run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, result: await run() };
  } catch (e) {
    log(`${system.label} ${detail} failed: ${(e as Error).message}`);
    return { ok: false, system, detail, error: (e as Error).message };
  }
}

const broker = await startLocalBroker({ topics: [{ name: 'bench-input', partitions }, { name: IRIS_TOPIC, partitions }] });
const kafka = benchKafka(broker.bootstrap);
const admin = kafka.admin();
let exitCode = 0;
try {
  await admin.connect();
  const corpus = await loadCorpus();
  log(`preloading ${records} records into ${partitions} partitions`);
  const loaded = await preload(kafka, 'bench-input', records, (i) => inputMessage(corpus, i));
  log(`preloaded ${(loaded.bytes / 1048576).toFixed(0)} MiB in ${(loaded.ms / 1000).toFixed(1)} s`);
  if (rowKeys.some((k) => k.startsWith('iris')) && existsSync(irisFixtureDir(root))) {
    log(`preloading ${irisRecords} iris records`);
    await preload(kafka, IRIS_TOPIC, irisRecords, irisMessages(root));
  }
  const setup: RowSetup = {
    broker,
    kafka,
    admin,
    inputTopic: 'bench-input',
    partitions,
    records,
    expectedIds: function* () {
      for (let i = 0; i < records; i++) yield recordId(i);
    },
    cwd: root,
    stallMs: 60_000,
  };
  const irisSetup: RowSetup = {
    ...setup,
    records: irisRecords,
    expectedIds: function* () {
      for (let i = 0; i < irisRecords; i++) yield recordId(i);
    },
  };
  /** The iris rows read their own topic, of their own number of records. */
  const setupOf = (system: System): RowSetup => (system.inputTopic === IRIS_TOPIC ? irisSetup : setup);
  let tag = 0;
  // @platformatic/kafka 1.x speaks only recent protocol versions; where the broker offers none
  // of them for an API the pipe needs, the row is not run and the report names the APIs.
  const platformaticGaps = rowKeys.includes('platformatic') ? versionGaps(await brokerApiVersions(broker.bootstrap), platformaticVersions()) : [];
  const rowSystems = rowKeys.map((k): System =>
    k === 'platformatic' && platformaticGaps.length
      ? { ...all[k], unavailable: `the local broker and @platformatic/kafka share no protocol version of ${platformaticGaps.join(', ')}` }
      : all[k],
  );
  const variantSystems = variantSpecs.map((spec) => {
    // `iris:K=V` varies another row than spark-text's (any row key before the colon).
    const [, key, settings] = /^([a-z-]+):(.*)$/.exec(spec) ?? [undefined, 'spark', spec];
    const base = all[key as SystemKey];
    if (!base) throw new Error(`--variant ${spec}: no row called ${key} (rows: ${SYSTEM_KEYS.join(', ')})`);
    const { BROKER_RTT_MS: rtt, ...env } = pairs(list(settings!));
    const system = variant(base, `${base.label}, ${settings}`, env);
    return rtt ? { ...system, changed: { ...env, BROKER_RTT_MS: rtt } } : system;
  });
  const runOnce = async (system: System): Promise<Outcome<RowResult>> => {
    const rtt = system.changed?.BROKER_RTT_MS;
    // The broker delays every answer: what a replicated cluster over a network costs per request.
    if (rtt) await broker.command(`rtt -1 ${Number(rtt)}`);
    try {
      return await attempt(system, 'throughput', () => runRow(setupOf(system), system, `t${tag++}`));
    } finally {
      if (rtt) await broker.command('rtt -1 0');
    }
  };
  // Repetitions go round all systems in turn, so a busy spell on the machine hits them alike;
  // the best run of each is reported, since other work only ever slows a run down.
  const everyRow = [...rowSystems, ...variantSystems];
  const runs = everyRow.map((): RowResult[] => []);
  const failures = new Map<number, Outcome<RowResult>>();
  for (let round = 1; round <= repeat; round++) {
    for (const [i, system] of everyRow.entries()) {
      if (failures.has(i)) continue;
      if (system.unavailable) {
        log(`throughput: ${system.label} not run: ${system.unavailable}`);
        failures.set(i, { ok: false, system, detail: 'throughput', error: system.unavailable, notRun: true });
        continue;
      }
      log(`throughput: ${system.label}${repeat > 1 ? ` (round ${round} of ${repeat})` : ''}`);
      const o = await runOnce(system);
      if (!o.ok || !o.result.ids.ok) {
        failures.set(i, o);
        continue;
      }
      // A process that does not stop cleanly on SIGTERM is a finding too: it fails the run.
      if (o.result.exitCode !== 0) {
        failures.set(i, { ok: false, system, detail: 'throughput', error: `exited with code ${o.result.exitCode} on SIGTERM` });
        continue;
      }
      log(`  ${Math.round(o.result.steadyPerS)} records/s steady, ${o.result.peakRssMiB.toFixed(0)} MiB, every id once`);
      runs[i]!.push(o.result);
    }
  }
  const outcomes = everyRow.map((_, i): Outcome<RowResult> => {
    const failed = failures.get(i);
    if (failed) return failed;
    const best = runs[i]!.reduce((a, b) => (b.steadyPerS > a.steadyPerS ? b : a));
    return { ok: true, result: repeat > 1 ? { ...best, steadyRuns: runs[i]!.map((r) => r.steadyPerS) } : best };
  });
  const rows = outcomes.slice(0, rowSystems.length);
  const variants = outcomes.slice(rowSystems.length);

  let startup: Outcome<StartupResult[]> | undefined;
  if (startupRounds > 0) {
    log(`start-up: ${startupRounds} round(s), compiled and through tsx`);
    startup = await attempt(all.spark, 'start-up', () => measureStartup(root, work, broker, kafka, admin, startupRounds));
    for (const r of startup.ok ? startup.result : []) log(`  ${r.label}: ${r.seconds.map((s) => s.toFixed(2)).join(', ')} s`);
  }

  const latency: Outcome<LatencyResult>[] = [];
  const latencySystems = [
    ...keys(opts['latency-rows']).map((k) => all[k]),
    ...(opts['latency-variant'] ?? DEFAULT_LATENCY_VARIANTS).filter((v) => v !== 'none').map((spec) => variant(all.spark, `${all.spark.label}, ${spec}`, pairs(list(spec)))),
  ];
  // As with throughput, rounds go round every system, and a failed run ends that system's rounds.
  const latencyRuns = latencySystems.map((): LatencyResult[][] => []);
  const latencyFailed = new Map<number, Outcome<LatencyResult>>();
  for (let round = 1; round <= (loads.length ? latencyRepeat : 0); round++) {
    for (const [i, system] of latencySystems.entries()) {
      if (latencyFailed.has(i)) continue;
      log(`latency: ${system.label} at ${loads.join(', ')} records/s${latencyRepeat > 1 ? ` (round ${round} of ${latencyRepeat})` : ''}`);
      const o = await attempt(system, `at ${loads.join(', ')} records/s`, () => runLatency(setup, system, loads, latencySeconds, lingerMs, `l${tag++}`));
      if (!o.ok) {
        latencyFailed.set(i, o);
        continue;
      }
      for (const r of o.result) log(`  ${r.offered} records/s: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ids ${r.ids.ok ? 'ok' : 'FAILED'}`);
      latencyRuns[i]!.push(o.result);
    }
  }
  for (const [i] of latencySystems.entries()) {
    const failed = latencyFailed.get(i);
    if (failed) latency.push(failed);
    for (const r of bestLatencies(latencyRuns[i]!)) latency.push({ ok: true, result: r });
  }

  const base = rows[0]?.ok ? rows[0].result.steadyPerS : NaN;
  const shareOf = (key: SystemKey): number => {
    const o = rows.find((r) => r.ok && r.result.system.key === key);
    return o?.ok ? o.result.steadyPerS / base : NaN;
  };
  // The text row is profiled, and the iris row too: each one whose throughput target is missed (or with --profile always).
  const toProfile = [
    { key: 'spark' as const, missed: shareOf('spark') < TARGETS.throughputShare },
    { key: 'iris' as const, missed: shareOf('iris') < TARGETS.irisShare },
  ].filter((t) => rowKeys.includes(t.key) && !all[t.key].unavailable && (opts.profile === 'always' || (opts.profile === 'auto' && t.missed)));
  const profiles: ReportData['profiles'][number][] = [];
  for (const { key } of toProfile) {
    const system = all[key];
    const dir = join(work, `profile-${key}`);
    log(`profiling the ${key} row (node --cpu-prof)`);
    const o = await attempt(system, 'profiled', () => runRow(setupOf(system), profiled(system, dir), `t${tag++}`));
    try {
      profiles.push(o.ok ? { label: system.label, row: o.result, summary: summarizeProfile(dir, root) } : { label: system.label, error: o.error });
    } catch (e) {
      profiles.push({ label: system.label, error: (e as Error).message });
    }
  }
  await admin.disconnect();
  await broker.stop();

  // In-process and last, so no broker or child competes for the cores.
  const sweeps: Sweep[] = [];
  for (const pkg of [TEXT_PACKAGE, ONNX_PACKAGE]) {
    log(`stage sweep: ${pkg}`);
    sweeps.push(await stageSweep(join(root, 'model-packages', pkg), corpus, batchSizes, sweepRecords));
  }

  const outFile = resolve(root, opts.out);
  const chartFile = resolve(root, opts.chart);
  const data: ReportData = {
    env: {
      command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      cores: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
      node: process.version,
      loadAverage: `${loadAverage} at the start, ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end`,
      records,
      irisRecords,
      partitions,
      corpusMails: corpus.mails,
      meanRecordBytes: loaded.bytes / records,
      sliceSize: benchConfig.sliceSize,
      sliceBytes: benchConfig.sliceBytes,
      repeat,
      lingerMs,
      latencyRepeat,
      runtimeEnv: { ...BENCH_ENV, ...runtimeEnv },
    },
    rows,
    variants,
    startup,
    latency,
    sweeps,
    slice: sliceSizeFindings(sweeps[0], variants, rows, benchConfig.sliceSize, textSliceRecords(benchConfig, loaded.bytes / records)),
    profiles,
    chartFile: relative(dirname(outFile), chartFile),
    totalS: (Date.now() - started) / 1000,
  };
  writeFileSync(outFile, renderReport(data, analyze(data), runnerRecommendations(data)));
  const okRows = rows.flatMap((o) => (o.ok ? [o.result] : []));
  const okLatency = latency.flatMap((o) => (o.ok ? [o.result] : []));
  await renderPng(chartSvg(okRows, okLatency, `${data.env.cores} cores · ${data.env.date} · ${f(records)} records · local broker · npm run bench (see BENCHMARKS.md for the options)`), chartFile);
  log(`wrote ${relative(root, outFile)} and ${relative(root, chartFile)} in ${Math.round(data.totalS)} s`);

  // A row this machine cannot run (a missing fixture, interpreter or protocol version) is reported as not run, not as a failure.
  const failed = [...rows, ...variants, ...latency].filter((o) => (!o.ok && !o.notRun) || (o.ok && !o.result.ids.ok));
  if (failed.length) {
    log(`${failed.length} run(s) failed or did not account for every record exactly once`);
    exitCode = 1;
  }
} catch (e) {
  log(`bench failed: ${(e as Error).stack ?? String(e)}`);
  exitCode = 1;
} finally {
  await broker.stop();
  // MLSTREAM_BENCH_KEEP=1 keeps the work folder (the rows' packages, the --profile CPU profiles) for a closer look.
  if (process.env.MLSTREAM_BENCH_KEEP === '1') log(`work folder kept: ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);

function f(n: number): string {
  return n.toLocaleString('en-US');
}
