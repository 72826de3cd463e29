import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, type Message, type Producer } from 'kafkajs';
import { pino } from 'pino';
import { encodeTfExample, kindForType, type FeatureKind } from '../codecs/tf-example.js';
import { probeKafka } from '../cli-errors.js';
import type { Config } from '../config.js';
import { kafkaConfig } from '../kafka/client.js';
import { KeyHashPartitioner } from '../kafka/partitioner.js';
import { parseInputSchema, type InputField } from '../pipeline/input-schema.js';
import { ProgressReporter, type ProgressMode } from '../produce/progress.js';
import { listInputs, readRecords, STDIN, type FileType, type InputFile } from '../produce/sources.js';

export interface ProduceOptions {
  readonly topic: string;
  readonly format: 'json' | 'tf-example';
  readonly inputType?: FileType;
  readonly package?: string;
  readonly key?: string;
  readonly id?: string;
  readonly autoId: boolean;
  readonly rate?: number;
  readonly limit?: number;
  readonly repeat: number;
  readonly batchSize: number;
  readonly progress: boolean;
  readonly logLevel: string;
  /** Send CSV cells as text even where they look like numbers (no --package). */
  readonly cellsAsText?: boolean;
}

/** A produce request stays under Kafka's default 1 MiB record-batch limit even if one partition gets it all. */
const BATCH_MAX_BYTES = 900 * 1024;
/** Batches failing in a row before the rest of the input is given up (the broker is gone, the topic is refused). */
const MAX_FAILED_IN_A_ROW = 3;
const PROBLEMS_SHOWN = 10;

interface Batch {
  messages: Message[];
  bytes: number;
  /** Input bytes behind the batch's last record, over all passes. */
  progressBytes: number;
}

/**
 * `mlstream produce <file|dir>`: a dataset into a topic, in batches of many messages per
 * produce request (acks=all, idempotent producer), one request in flight while the next
 * batch is read and encoded. Exit 0 only when every record read was acknowledged.
 */
export async function produceCommand(path: string, opts: ProduceOptions, config: Config): Promise<number> {
  let files: InputFile[];
  let schema: Map<string, InputField> | undefined;
  try {
    const listed = await listInputs(path, opts.inputType);
    for (const p of listed.ignored) process.stderr.write(`mlstream produce: ignoring ${p} (not .jsonl, .ndjson or .csv; see --input-type)\n`);
    files = listed.files;
    schema = opts.package ? await readInputSchema(opts.package) : undefined;
  } catch (e) {
    process.stderr.write(`mlstream produce: ${(e as Error).message}\n`);
    return 2;
  }
  if (files.length === 0) {
    process.stderr.write(`mlstream produce: no input files in ${path}\n`);
    return 1;
  }
  const untyped = schema || opts.cellsAsText ? undefined : await numericLookingCsvColumns(files);
  if (untyped?.length) {
    process.stderr.write(
      `mlstream produce: without --package every CSV cell is sent as text, so a model expecting numbers in ${untyped.join(', ')} would refuse every row (SCHEMA_VIOLATION) — ` +
        `pass --package <model dir> to type the cells from its input_schema, or --cells-as-text if text is what the model wants\n`,
    );
    return 2;
  }
  const producer = await connect(config, opts);
  if (!producer) return 1;
  const upload = new Upload(producer, files, schema, opts);
  const onSigint = (): void => upload.interrupt();
  process.once('SIGINT', onSigint);
  try {
    return await upload.run();
  } finally {
    process.off('SIGINT', onSigint);
    await producer.disconnect().catch(() => undefined);
  }
}

/** A connected idempotent producer, once the topic is known to exist; undefined after saying why not. */
async function connect(config: Config, opts: ProduceOptions): Promise<Producer | undefined> {
  await probeKafka(config.brokers);
  const log = pino({ level: opts.logLevel, base: { service: 'mlstream-produce' } }, pino.destination(2));
  // Fewer connection retries than the runtime's: a person is waiting for the answer.
  const kafka = new Kafka({ ...kafkaConfig(config, log), retry: { initialRetryTime: 100, retries: 4 } });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: KeyHashPartitioner,
    retry: { retries: 8, initialRetryTime: 100 },
  });
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    if (!topics.includes(opts.topic)) {
      process.stderr.write(`mlstream produce: topic "${opts.topic}" does not exist on ${config.brokers.join(',')} (create it first: mlstream topics create)\n`);
      return undefined;
    }
    await producer.connect();
    return producer;
  } catch (e) {
    await admin.disconnect().catch(() => undefined);
    process.stderr.write(`mlstream produce: cannot reach Kafka at ${config.brokers.join(',')}: ${(e as Error).message}\n`);
    return undefined;
  }
}

/** One run of the producer over the input: reading, batching, pacing, counting. */
class Upload {
  private acknowledged = 0;
  private failed = 0;
  private skipped = 0;
  private readonly problems: string[] = [];
  private readonly progress: ProgressReporter;
  private readonly onePassBytes: number;
  private readonly batchMax: number;
  private readonly kinds: ReadonlyMap<string, FeatureKind> | undefined;
  private started = 0;
  private dispatched = 0;
  private inFlight: Promise<void> | undefined;
  private failedInARow = 0;
  private gaveUp = false;
  private interrupted = false;

  constructor(
    private readonly producer: Producer,
    private readonly files: readonly InputFile[],
    private readonly schema: ReadonlyMap<string, InputField> | undefined,
    private readonly opts: ProduceOptions,
  ) {
    const mode: ProgressMode = opts.progress ? (process.stderr.isTTY ? 'bar' : 'lines') : 'off';
    this.progress = new ProgressReporter(process.stderr, mode, `produce ${opts.topic}`);
    this.onePassBytes = files.reduce((s, f) => s + f.bytes, 0);
    // Paced runs send small batches often, so the rate holds over short stretches too.
    this.batchMax = opts.rate ? Math.max(1, Math.min(opts.batchSize, Math.ceil(opts.rate / 20))) : opts.batchSize;
    this.kinds = schema ? new Map([...schema].map(([name, f]) => [name, kindForType(f.type)])) : undefined;
  }

  interrupt(): void {
    this.interrupted = true;
  }

  async run(): Promise<number> {
    this.started = performance.now();
    this.progress.start();
    try {
      await this.readAll();
      await this.inFlight;
    } finally {
      this.progress.finish();
    }
    this.summarize();
    if (this.interrupted) return 130;
    return this.failed > 0 || this.skipped > 0 ? 1 : 0;
  }

  private async readAll(): Promise<void> {
    let batch: Batch = { messages: [], bytes: 0, progressBytes: 0 };
    const { limit, repeat } = this.opts;
    const done = (): boolean => this.interrupted || this.gaveUp || (limit !== undefined && this.dispatched + batch.messages.length >= limit);
    for (let pass = 1; pass <= repeat; pass++) {
      let fileOffset = (pass - 1) * this.onePassBytes;
      for (const file of this.files) {
        for await (const block of readRecords(file, this.schema)) {
          let problem = 0;
          for (let k = 0; k <= block.records.length; k++) {
            if (done()) {
              // Records already batched when the run gave up are not acknowledged: they count as failed.
              if (this.gaveUp) this.failed += batch.messages.length;
              else if (batch.messages.length > 0) await this.dispatch(batch);
              return;
            }
            // Lines are judged in file order, so a bad line past --limit is never read, let alone reported.
            while (problem < block.problems.length && block.problems[problem]!.before <= k) this.skip(block.problems[problem++]!.text);
            if (k === block.records.length) break;
            const message = toMessage(block.records[k]!, file, block.numbers[k]!, pass, this.opts, this.kinds);
            if (typeof message === 'string') {
              this.skip(message);
              continue;
            }
            batch.messages.push(message);
            batch.bytes += (message.value as Buffer).length + (message.key?.length ?? 0);
            batch.progressBytes = fileOffset + block.ends[k]!;
            if (batch.messages.length >= this.batchMax || batch.bytes >= BATCH_MAX_BYTES) {
              await this.dispatch(batch);
              batch = { messages: [], bytes: 0, progressBytes: batch.progressBytes };
            }
          }
        }
        fileOffset += file.bytes;
      }
    }
    if (batch.messages.length > 0) await this.dispatch(batch);
  }

  /** Waits for the rate's schedule and for the request in flight, then sends the batch. */
  private async dispatch(batch: Batch): Promise<void> {
    if (this.opts.rate) {
      const wait = this.started + (this.dispatched / this.opts.rate) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await this.inFlight;
    this.dispatched += batch.messages.length;
    if (this.gaveUp) this.failed += batch.messages.length;
    else this.inFlight = this.send(batch);
  }

  private async send(batch: Batch): Promise<void> {
    try {
      await this.producer.send({ topic: this.opts.topic, acks: -1, messages: batch.messages });
      this.acknowledged += batch.messages.length;
      this.failedInARow = 0;
    } catch (e) {
      this.failed += batch.messages.length;
      this.failedInARow++;
      if (this.failedInARow >= MAX_FAILED_IN_A_ROW) this.gaveUp = true;
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}mlstream produce: ${batch.messages.length} records not acknowledged: ${(e as Error).message}\n`);
    }
    const total = this.onePassBytes * this.opts.repeat;
    const byBytes = total > 0 ? batch.progressBytes / total : 1;
    const byCount = this.opts.limit ? (this.acknowledged + this.failed) / this.opts.limit : 0;
    this.progress.update({ acknowledged: this.acknowledged, failed: this.failed, fraction: Math.max(byBytes, byCount) });
  }

  private skip(problem: string): void {
    this.skipped++;
    if (this.problems.length < PROBLEMS_SHOWN) this.problems.push(problem);
  }

  private summarize(): void {
    for (const p of this.problems) process.stderr.write(`mlstream produce: skipped ${p}\n`);
    if (this.skipped > this.problems.length) process.stderr.write(`mlstream produce: … and ${this.skipped - this.problems.length} more skipped\n`);
    const seconds = (performance.now() - this.started) / 1000;
    const why = this.interrupted ? ' (interrupted)' : this.gaveUp ? ` (gave up after ${MAX_FAILED_IN_A_ROW} failed requests in a row; the rest of the input was not read)` : '';
    process.stdout.write(
      `produced ${this.acknowledged + this.failed} records to ${this.opts.topic}: ${this.acknowledged} acknowledged, ${this.failed} failed, ${this.skipped} skipped` +
        ` in ${seconds.toFixed(2)} s (${Math.round(this.acknowledged / Math.max(seconds, 1e-3))} msg/s)${why}\n`,
    );
  }
}

/** The Kafka message for a record, or why it cannot be one. */
function toMessage(record: Record<string, unknown>, file: InputFile, n: number, pass: number, opts: ProduceOptions, kinds: ReadonlyMap<string, FeatureKind> | undefined): Message | string {
  if (opts.id !== undefined) {
    const v = record[opts.id];
    if (typeof v === 'string' || Number.isSafeInteger(v)) record.id = v;
  }
  if (record.id == null && opts.autoId) record.id = pass > 1 ? `${file.name}:${n}#${pass}` : `${file.name}:${n}`;
  const keyValue = record[opts.key ?? 'id'];
  const key = keyValue == null ? null : typeof keyValue === 'string' ? keyValue : JSON.stringify(keyValue);
  if (opts.format === 'json') return { key, value: Buffer.from(JSON.stringify(record)) };
  try {
    return { key, value: Buffer.from(encodeTfExample(record, kinds)) };
  } catch (e) {
    return `${file.name}:${n}: cannot be a tf.train.Example: ${(e as Error).message}`;
  }
}

const NUMBER_TEXT = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Columns of the first CSV's first data row that look like numbers (standard input is not peeked: it cannot be read twice). */
async function numericLookingCsvColumns(files: readonly InputFile[]): Promise<string[]> {
  const csv = files.find((f) => f.type === 'csv' && f.path !== STDIN);
  if (!csv) return [];
  for await (const block of readRecords(csv, undefined)) {
    const first = block.records[0];
    if (first) return Object.entries(first).filter(([, v]) => typeof v === 'string' && NUMBER_TEXT.test(v)).map(([k]) => k);
  }
  return [];
}

async function readInputSchema(packageDir: string): Promise<Map<string, InputField>> {
  const file = join(packageDir, 'config.json');
  let config: { input_schema?: Record<string, string> };
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as typeof config;
  } catch (e) {
    throw new Error(`--package: cannot read ${file} (${(e as Error).message})`);
  }
  if (!config.input_schema) throw new Error(`--package: ${file} has no input_schema`);
  return new Map(parseInputSchema(config.input_schema).map((f) => [f.name, f]));
}
