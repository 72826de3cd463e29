import os from 'node:os';
import type { LatencyResult } from './latency.js';
import type { Outcome, ReportData, SliceChoice } from './report.js';
import type { ProfileSummary } from './profile.js';
import type { Sweep } from './stages.js';
import type { RowResult } from './throughput.js';
import { recordsPerSlice } from '../../runtime/kafka/slices.js';

/**
 * mlstream's throughput and peak RSS by SLICE_SIZE, on the local broker and with delayed
 * broker answers, and how long one slice holds the event loop (from the sweep), next to
 * the configured default. On this shared 2-core machine nearby sizes differ by less than the
 * run-to-run spread of a single run, so the figures are laid side by side rather than one
 * run choosing the size by itself.
 */
export function sliceSizeFindings(sweep: Sweep | undefined, variants: readonly Outcome<RowResult>[], rows: readonly Outcome<RowResult>[], configured: number, textSlice = configured): SliceChoice | undefined {
  // End-to-end runs that differ from the default row only in SLICE_SIZE and broker latency: latency → size → run.
  const byRtt = new Map<string, Map<number, RowResult>>();
  const add = (rtt: string, size: number, r: RowResult): void => void (byRtt.get(rtt) ?? byRtt.set(rtt, new Map()).get(rtt)!).set(size, r);
  for (const o of rows) if (o.ok && o.result.system.key === 'spark') add('0', configured, o.result);
  for (const o of variants) {
    const changed = o.ok ? o.result.system.changed : undefined;
    if (!o.ok || o.result.system.key !== 'spark+' || !changed || Object.keys(changed).some((k) => k !== 'SLICE_SIZE' && k !== 'BROKER_RTT_MS')) continue;
    add(changed.BROKER_RTT_MS ?? '0', Number(changed.SLICE_SIZE ?? configured), o.result);
  }
  const sizes = [...new Set([...byRtt.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  if (sizes.length < 2) return undefined;
  const latencies = [...byRtt.keys()].sort((a, b) => Number(a) - Number(b));
  const cell = (rtt: string, size: number): string => {
    const runs = byRtt.get(rtt)!;
    const r = runs.get(size);
    if (!r) return '–';
    const best = Math.max(...[...runs.values()].map((x) => x.steadyPerS));
    return `${f0(r.steadyPerS)}/s (${pct(r.steadyPerS / best)}), ${f0(r.peakRssMiB)} MiB`;
  };
  // The default row's mails are cut by bytes first: its slices hold about `textSlice` of them.
  const hold = (size: number): string => {
    const p = nearestPoint(sweep, Math.min(size, textSlice));
    return p ? `${p.batchMs.toFixed(1)} ms${p.batchSize !== size ? ` (${p.batchSize} records)` : ''}` : '–';
  };
  return {
    size: configured,
    table: [
      `| SLICE_SIZE | ${latencies.map((rtt) => (rtt === '0' ? 'local broker: records/s (of the best), peak RSS' : `${rtt} ms per broker answer`)).join(' | ')} | event loop held per slice |`,
      `|--:|${latencies.map(() => '--:').join('|')}|--:|`,
      ...sizes.map((size) => `| ${size}${size === configured ? ' (default)' : ''} | ${latencies.map((rtt) => cell(rtt, size)).join(' | ')} | ${hold(size)} |`),
    ],
  };
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Records in a slice of the text rows' mails: SLICE_SIZE, or fewer where SLICE_BYTES cuts first. */
export function textSliceRecords(c: { readonly sliceSize: number; readonly sliceBytes: number }, meanRecordBytes: number): number {
  return recordsPerSlice({ maxRecords: c.sliceSize, maxBytes: c.sliceBytes }, meanRecordBytes);
}

/** The sweep's batch size nearest to `n` records (by ratio). */
function nearestPoint(sweep: Sweep | undefined, n: number): Sweep['points'][number] | undefined {
  let best: Sweep['points'][number] | undefined;
  for (const p of sweep?.points ?? []) if (!best || Math.abs(Math.log(p.batchSize / n)) < Math.abs(Math.log(best.batchSize / n))) best = p;
  return best;
}

/** A system that keeps up delivers its last output about one latency after the last send. */
const SATURATED_DRAIN_MS = 1000;

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/**
 * What the machine allows: the pipe's cost per record for the whole machine (its process,
 * the broker, the kernel: measured from /proc/stat during row (1)) plus the engine's own
 * in-process cost, spread perfectly over every core; and how busy the machine actually was
 * during the text row, which says whether the row is bounded by CPU or by waiting.
 */
function ceilingLine(cores: number, plain: RowResult, spark: RowResult, engineUs: number): string {
  const measured = Number.isFinite(plain.machineUsPerRecord);
  const kafkaUs = measured ? plain.machineUsPerRecord : plain.cpuUsPerRecord;
  const bound = (cores * 1e6) / (kafkaUs + engineUs);
  let line =
    `- **The ceiling on this machine.** Even spread perfectly over all ${cores} cores, with nothing per record but the pipe's cost (${kafkaUs.toFixed(0)} µs of CPU ` +
    `${measured ? 'for the whole machine: its process, the broker and the kernel' : 'in its process'}) and the in-process engine cost (${engineUs.toFixed(0)} µs CPU), ` +
    `mlstream could not pass ${Math.round(bound).toLocaleString('en-US')} records/s, ${pct(bound / plain.steadyPerS)} of row (1)` +
    (bound / plain.steadyPerS < 0.8 ? ': the 80% target is out of reach here for a text pipeline of this cost; only a cheaper pipeline per record or more cores move it.' : '.');
  if (Number.isFinite(spark.machineBusyShare)) {
    const idle = 1 - spark.machineBusyShare;
    line +=
      ` During the ${spark.system.label.replace(/^mlstream, /, '')} row the machine's cores were ${pct(spark.machineBusyShare)} busy (${spark.machineUsPerRecord.toFixed(0)} µs of machine CPU per record; the pipe row: ${pct(plain.machineBusyShare)})` +
      (idle > 0.1
        ? `: ${pct(idle)} of the machine's time went unused, time in which the runtime's threads waited on each other or on the broker's round trips rather than on CPU.`
        : ': the row used the machine\'s CPU to the full.');
  }
  const over = spark.machineUsPerRecord - (kafkaUs + engineUs);
  const t = spark.threadUsPerRecord;
  if (Number.isFinite(over) && over > 0) {
    line +=
      ` The row spent ${over.toFixed(0)} µs of machine CPU per record beyond the line's ${(kafkaUs + engineUs).toFixed(0)}; in its process, the threads other than the main thread and the pool workers — V8's garbage collection and compiler helpers, libuv — spent ${t.other.toFixed(0)} µs per record, the pipe's ${plain.threadUsPerRecord.other.toFixed(0)} (CPU by thread, below).`;
  }
  return line;
}

/** Plain sentences drawn from the figures: where the extra CPU goes and what the settings tried changed. */
export function analyze(d: ReportData): string[] {
  const ok = (key: string): RowResult | undefined => {
    const o = d.rows.find((r) => r.ok && r.result.system.key === key);
    return o?.ok ? o.result : undefined;
  };
  const plain = ok('plain');
  const spark = ok('spark');
  const out: string[] = [];
  if (plain && spark) {
    const sweep = d.sweeps[0];
    const point = nearestPoint(sweep, textSliceRecords(d.env, d.env.meanRecordBytes));
    let line =
      `- **CPU per record.** The pipe spends ${plain.cpuUsPerRecord.toFixed(0)} µs of CPU per record, mlstream with ${spark.system.label.replace(/^mlstream, /, '')} ${spark.cpuUsPerRecord.toFixed(0)} µs ` +
      `(${(spark.cpuUsPerRecord / plain.cpuUsPerRecord).toFixed(1)}×).`;
    if (point && sweep) {
      const stages = point.stageUs.reduce((s, [, us]) => s + us, 0);
      const heaviest = [...point.stageUs].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([uid, us]) => `${uid.replace(/_[0-9a-f]{12}$/, '')} ${us.toFixed(1)}`);
      line +=
        ` In one process without Kafka, batches of ${point.batchSize} cost ${point.cpuUs.toFixed(1)} µs of CPU per record; of ${point.totalUs.toFixed(1)} µs wall, ${stages.toFixed(1)} are in the stages (${heaviest.join(', ')}) ` +
        `and ${point.engineUs.toFixed(1)} in decoding, validation and building outputs — tokenizing, filtering and hashing a ${Math.round(d.env.meanRecordBytes).toLocaleString('en-US')}-byte mail is work the pipe never does. ` +
        `The stages run on the worker pool's thread(s) (and on the main thread when it has room: work sharing), the Kafka work on the main thread, and both share the machine's cores with the local broker, the kernel's network stack and the benchmark's own polling (the broker used ${spark.brokerCpuS.toFixed(2)} CPU s during the row).`;
      out.push(line);
      line = ceilingLine(d.env.cores, plain, spark, point.cpuUs);
    }
    out.push(line);
  }
  const onnx = ok('onnx');
  const [textSweep, onnxSweep] = d.sweeps;
  const at = (sw: Sweep | undefined) => nearestPoint(sw, textSliceRecords(d.env, d.env.meanRecordBytes));
  const [textPoint, onnxPoint] = [at(textSweep), at(onnxSweep)];
  if (onnx && textPoint && onnxPoint) {
    const last = (p: typeof textPoint) => p.stageUs[p.stageUs.length - 1]!;
    out.push(
      `- **The ONNX twin** runs the same classifier as an ONNX stage: ${last(onnxPoint)[1].toFixed(1)} µs per record in-process against ${last(textPoint)[1].toFixed(1)} µs for the TypeScript LogisticRegression, ` +
        `because the stage packs every row's sparse feature vector into a dense float32 row for onnxruntime and ships the tensor to its worker thread (${f0(onnx.cpuUsPerRecord)} µs CPU per record end to end, ${f0(onnx.peakRssMiB)} MiB peak RSS with the worker's own heap and onnxruntime).`,
    );
  }
  out.push(...clientLines(d, ok));
  for (const profile of d.profiles) {
    if ('error' in profile) continue;
    const areas = profile.summary.byArea.slice(0, 4).map((a) => `${a.name} ${pct(a.selfShare)}`);
    const threads = profile.summary.threads.map((t) => `${pct(t.busyMs / Math.max(1, t.windowMs))} (${t.areas.slice(0, 4).map((a) => `${a.name} ${pct(a.selfShare)}`).join(', ')})`);
    out.push(`- **Profile, ${profile.label}.** Busy time by area: ${areas.join(', ')}. Each thread busy for this share of its own work window: ${threads.join('; ')} — a thread near 100% is the bottleneck.`);
    const unprofiled = ok(profile.row.system.key.replace(/-profiled$/, ''));
    const bound = unprofiled ? boundThread(profile.summary.threads, unprofiled, d.rows[0]) : undefined;
    if (bound) out.push(bound);
  }
  if (spark) out.push(...settingLines(d, spark));
  for (const o of d.latency) {
    if (!o.ok) continue;
    const r = o.result;
    if (r.drainMs > SATURATED_DRAIN_MS) {
      out.push(
        `- **Saturated:** ${r.system.label} at ${r.offered.toLocaleString('en-US')} records/s delivered ${Math.round(r.deliveredPerS).toLocaleString('en-US')}/s and its last output came ` +
          `${(r.drainMs / 1000).toFixed(1)} s after the last record was sent: it fell behind, and its latency grew for as long as the load lasted.`,
      );
    }
  }
  return out;
}

const describeSettings = (changed: Readonly<Record<string, string>>): string =>
  Object.entries(changed)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/**
 * Each setting tried against the run it differs from by that one setting: the default row,
 * or (for a setting tried under added broker latency) the run with only that latency.
 */
function settingLines(d: ReportData, spark: RowResult): string[] {
  // Variants of another row (`--variant iris:K=V`) are compared with that row, and listed after.
  const ownRow = (r: RowResult): RowResult | undefined => {
    const o = d.rows.find((row) => row.ok && `${row.result.system.key}+` === r.system.key);
    return o?.ok ? o.result : undefined;
  };
  const others = d.variants.flatMap((v) => (v.ok && v.result.system.key !== 'spark+' ? [v.result] : []));
  return [
    ...sparkSettingLines(d, spark),
    ...others.map((r) => {
      const base = ownRow(r);
      const change = base ? r.steadyPerS / base.steadyPerS - 1 : NaN;
      return (
        `- **${r.system.label}**: ${Math.round(r.steadyPerS).toLocaleString('en-US')} records/s steady` +
        (base ? ` (${change >= 0 ? '+' : ''}${pct(change)} vs its default row)` : '') +
        `, ${r.cpuUsPerRecord.toFixed(0)} µs CPU per record, ${r.peakRssMiB.toFixed(0)} MiB peak RSS.`
      );
    }),
  ];
}

function sparkSettingLines(d: ReportData, spark: RowResult): string[] {
  const runs = d.variants.flatMap((v) => (v.ok && v.result.system.key === 'spark+' ? [v.result] : []));
  const rttOnly = (rtt: string): RowResult | undefined =>
    runs.find((r) => r.system.changed && Object.keys(r.system.changed).length === 1 && r.system.changed.BROKER_RTT_MS === rtt);
  return runs.map((r) => {
    const changed = r.system.changed ?? {};
    const { BROKER_RTT_MS: rtt, ...rest } = changed;
    const base = rtt && Object.keys(rest).length ? rttOnly(rtt) : spark;
    const baseName = base === spark ? 'the default row' : `${describeSettings({ BROKER_RTT_MS: rtt! })} alone`;
    const change = base ? r.steadyPerS / base.steadyPerS - 1 : NaN;
    return (
      `- **${describeSettings(changed)}**: ${Math.round(r.steadyPerS).toLocaleString('en-US')} records/s steady (${change >= 0 ? '+' : ''}${pct(change)} vs ${baseName}), ` +
      `${r.cpuUsPerRecord.toFixed(0)} µs CPU per record, ${r.peakRssMiB.toFixed(0)} MiB peak RSS.`
    );
  });
}

/** Changes to the runner (runtime/kafka) the figures argue for, each with the figures. */
export function runnerRecommendations(d: ReportData): string[] {
  const spark = d.rows.find((o) => o.ok && o.result.system.key === 'spark');
  if (!spark?.ok) return [];
  const base = spark.result;
  const runs = d.variants.flatMap((v) => (v.ok && v.result.system.key === 'spark+' ? [v.result] : []));
  const find = (changed: Record<string, string>): RowResult | undefined =>
    runs.find((r) => JSON.stringify(Object.entries(r.system.changed ?? {}).sort()) === JSON.stringify(Object.entries(changed).sort()));
  const rate = (r: RowResult): string => `${f0(r.steadyPerS)}/s`;
  const delta = (a: RowResult, b: RowResult): string => `${b.steadyPerS >= a.steadyPerS ? '+' : ''}${pct(b.steadyPerS / a.steadyPerS - 1)}`;
  const out: string[] = [];
  const rtt = runs.find((r) => r.system.changed && Object.keys(r.system.changed).length === 1 && r.system.changed.BROKER_RTT_MS);
  /** The variant that changes only how many partitions are consumed at once, and its value. */
  const alone = runs.find((r) => r.system.changed && Object.keys(r.system.changed).length === 1 && r.system.changed.KAFKA_PARTITIONS_CONCURRENTLY);
  const pc = alone?.system.changed?.KAFKA_PARTITIONS_CONCURRENTLY;
  if (rtt) {
    const ms = rtt.system.changed!.BROKER_RTT_MS!;
    const fewer = pc ? find({ BROKER_RTT_MS: ms, KAFKA_PARTITIONS_CONCURRENTLY: pc }) : undefined;
    const smallSlices = find({ BROKER_RTT_MS: ms, SLICE_SIZE: '100' });
    const pipelined = find({ BROKER_RTT_MS: ms, SLICES_IN_FLIGHT: '2' });
    out.push(
      `1. **A partition's round trips.** With every broker answer delayed ${ms} ms (as on a replicated cluster across a network), throughput goes from ${rate(base)} to ${rate(rtt)} (${delta(base, rtt)}). ` +
        `The next slice of a partition is already computed while a slice's outputs are produced and committed (runner.ts), but with the default SLICES_IN_FLIGHT=1 each slice's produce acknowledgement and commit are awaited before the next slice's produce goes out` +
        (pipelined ? `; with SLICES_IN_FLIGHT=2 the next slice is produced while the commit runs: ${rate(pipelined)} at ${ms} ms (${delta(rtt, pipelined)})` : '') +
        (smallSlices ? `; smaller slices pay for more of them (${rate(smallSlices)} with SLICE_SIZE=100 at ${ms} ms, ${delta(rtt, smallSlices)})` : '') +
        (fewer ? `; consuming fewer partitions at once (KAFKA_PARTITIONS_CONCURRENTLY=${pc}) gives ${rate(fewer)} at ${ms} ms (${delta(rtt, fewer)} against the default).` : '.'),
    );
  }
  const latencyAt = (key: string, offered: number): LatencyResult | undefined => {
    const o = d.latency.find((l) => l.ok && l.result.system.key === key && l.result.offered === offered);
    return o?.ok ? o.result : undefined;
  };
  if (alone) {
    const loads = [...new Set(d.latency.flatMap((l) => (l.ok ? [l.result.offered] : [])))].sort((a, b) => a - b);
    const pairs = loads.flatMap((load) => {
      const [def, one] = [latencyAt('spark', load), latencyAt('spark+', load)];
      return def && one ? [`${f0(load)}/s ${def.p99.toFixed(1)} against ${one.p99.toFixed(1)} ms`] : [];
    });
    out.push(
      `${out.length + 1}. **Partitions consumed concurrently.** On the local broker KAFKA_PARTITIONS_CONCURRENTLY=${pc} gives ${rate(alone)} (${delta(base, alone)} against the default, the larger of 4 and workers + 1)` +
        `, with ${f0(Math.abs(alone.peakRssMiB - base.peakRssMiB))} MiB ${alone.peakRssMiB <= base.peakRssMiB ? 'less' : 'more'} peak RSS: every fetched partition in the engine at once means none waits for the others' round trips.` +
        (pairs.length ? ` Latency may go the other way — p99 with the default against one partition at a time: ${pairs.join('; ')}. The default keeps throughput; where latency at a modest rate matters more, compare both with this bench.` : ''),
    );
  }
  const inline = find({ MLSTREAM_WORKERS: '0' });
  if (inline) {
    out.push(
      `${out.length + 1}. **The worker pool.** With every plan on the main thread (MLSTREAM_WORKERS=0) spam-text runs at ${rate(inline)}; on the pool (the default: ${os.availableParallelism() - 1 || 1} worker(s)) at ${rate(base)} (${delta(inline, base)}), ` +
        `with ${f0(Math.abs(base.peakRssMiB - inline.peakRssMiB))} MiB ${base.peakRssMiB >= inline.peakRssMiB ? 'more' : 'less'} peak RSS (the worker's heap and its own copy of the model cost memory; run-to-run spread is of the same size) and ${f0(Math.abs(base.cpuUsPerRecord - inline.cpuUsPerRecord))} µs ${base.cpuUsPerRecord >= inline.cpuUsPerRecord ? 'more' : 'less'} CPU per record. The profile's per-thread load says which thread bounds it.`,
    );
  }
  if (d.slice) {
    const small = find({ SLICE_SIZE: '100' });
    const irisRow = d.rows.find((o) => o.ok && o.result.system.key === 'iris');
    const iris = irisRow?.ok ? irisRow.result : undefined;
    const irisOld = d.variants.flatMap((v) => (v.ok && v.result.system.key === 'iris+' && JSON.stringify(v.result.system.changed) === JSON.stringify({ SLICE_SIZE: '250' }) ? [v.result] : []))[0];
    const mails = textSliceRecords(d.env, d.env.meanRecordBytes);
    out.push(
      `${out.length + 1}. **Slice size: ${f0(d.env.sliceSize)} records or ${f0(d.env.sliceBytes / 1024)} KiB of values, whichever comes first** (SLICE_SIZE, SLICE_BYTES; runtime/kafka/slices.ts). The mails' slices hold about ${f0(mails)} records at their mean size (the bytes decide), the iris tree's up to ${f0(d.env.sliceSize)}` +
        (iris && irisOld ? `: the iris tree ${rate(iris)} against ${rate(irisOld)} with slices of 250 records, the cut before SLICE_BYTES (${delta(irisOld, iris)}, peak RSS ${f0(iris.peakRssMiB)} against ${f0(irisOld.peakRssMiB)} MiB)` : '') +
        (small ? `; spam-text ${rate(base)} against ${rate(small)} with slices of 100 records (${delta(small, base)})` : '') +
        '. A slice\'s hand-off, produce and commit cost the same however many records it holds; the byte bound keeps a slice of big records as small in memory and engine time as before.',
    );
  }
  out.push(
    `${out.length + 1}. **Not measurable here:** fetch sizes (the preloaded topics hold batches of about 1 MB per partition and a fetch always returns at least one whole batch, so smaller fetch limits change nothing in the throughput rows) and producer compression ` +
      '(kafkajs compresses on the event loop, which is already the bottleneck; worth trying only against a network-bound cluster).',
  );
  return out;
}

/** The second Kafka client against the first, and the iris row's CPU budget at 100,000 records/s. */
function clientLines(d: ReportData, ok: (key: string) => RowResult | undefined): string[] {
  const out: string[] = [];
  const pairs: Array<[string, RowResult | undefined, RowResult | undefined]> = [
    ['the bare pipe', ok('plain'), ok('librdkafka')],
    ['mlstream with spam-text', ok('spark'), ok('spark-librdkafka')],
    ['the iris tree', ok('iris'), ok('iris-librdkafka')],
  ];
  const measured = pairs.filter(([, a, b]) => a && b).map(
    ([what, a, b]) => `${what} ${f0(b!.steadyPerS)} records/s against ${f0(a!.steadyPerS)} (${pct(b!.steadyPerS / a!.steadyPerS)}), ${f0(b!.cpuUsPerRecord)} against ${f0(a!.cpuUsPerRecord)} µs CPU and ${f0(b!.peakRssMiB)} against ${f0(a!.peakRssMiB)} MiB peak RSS`,
  );
  if (measured.length) out.push(`- **The Kafka client.** On librdkafka (KAFKA_CLIENT=librdkafka) against kafkajs: ${measured.join('; ')}.`);
  const iris = ok('iris');
  if (iris) {
    const rd = ok('iris-librdkafka');
    const budget = (d.env.cores * 1e6) / 100_000;
    const best = rd && rd.cpuUsPerRecord < iris.cpuUsPerRecord ? rd : iris;
    out.push(
      `- **The iris tree at 100,000 records/s** would leave ${budget.toFixed(0)} µs of CPU per record on ${d.env.cores} cores for everything — Kafka, decoding, validation, the tree, outputs — with the broker and the kernel's network stack on the same cores. ` +
        `It spends ${f0(iris.cpuUsPerRecord)} µs on kafkajs${rd ? ` and ${f0(rd.cpuUsPerRecord)} on librdkafka` : ''}: ${(best.cpuUsPerRecord / budget).toFixed(1)}× the budget, and the bare kafkajs pipe alone spends ${f0(ok('plain')?.cpuUsPerRecord ?? NaN)} µs per (larger) record.`,
    );
  }
  return out;
}

/** The areas that are mlstream's own per-record work rather than the Kafka client's or the runtime's. */
const MODEL_AREAS = new Set(['engine (decode, outputs)', 'model stages', 'pipeline (frame)', 'AJV validation']);

/**
 * For a profiled row whose busiest thread is saturated: how far that thread could go (from the
 * row's own unprofiled throughput and the profile's shares) if
 * decoding, validation, the stages and the outputs cost nothing — what is left on it is the
 * Kafka client, Node's sockets and buffers, and garbage collection.
 */
function boundThread(threads: ProfileSummary['threads'], row: RowResult, first: Outcome<RowResult> | undefined): string | undefined {
  const t = threads[0];
  if (!t || !first?.ok) return undefined;
  const busy = t.busyMs / Math.max(1, t.windowMs);
  if (busy < 0.9) return undefined;
  const model = t.areas.filter((a) => MODEL_AREAS.has(a.name)).reduce((n, a) => n + a.selfShare, 0);
  const rest = t.areas.filter((a) => !MODEL_AREAS.has(a.name)).slice(0, 3).map((a) => `${a.name} ${pct(a.selfShare)}`);
  const ceiling = row.steadyPerS / busy / Math.max(0.01, 1 - model);
  return (
    `- **${row.system.label}: the busiest thread is saturated** (${pct(busy)} of its work window under the profiler; ${f0(row.steadyPerS)} records/s in its row). Decoding, validation, the stages and the outputs are ${pct(model)} of it; the rest is ${rest.join(', ')}. ` +
    `Were the model work free, that thread would carry at most about ${f0(ceiling)} records/s, ${pct(ceiling / first.result.steadyPerS)} of row (1) — the remainder of any gap is the Kafka client's per-record work on that thread.`
  );
}
