import { randomBytes } from 'node:crypto';
import { Kafka, type Consumer, type IHeaders } from 'kafkajs';
import { CliError, ExitCodes, KAFKA_CONNECT_TIMEOUT_MS, probeKafka } from '../cli-errors.js';
import type { Config } from '../config.js';
import { jsonLine, prettyLine, type ConsumedRecord } from '../consume/render.js';
import { kafkaConfig } from '../kafka/client.js';
import { createLogger } from '../log.js';

export interface ConsumeOptions {
  readonly topics: readonly string[];
  readonly from: 'beginning' | 'end';
  readonly follow: boolean;
  readonly limit?: number;
  readonly json: boolean;
  readonly logLevel: string;
}

/** Per partition, the offset reading must reach before a run without --follow is done. */
type EndOffsets = Map<string, bigint>;

/**
 * `mlstream consume` (alias `tail`): prints the records of `predictions`, `errors` or any
 * topic as they arrive. Without --follow it reads up to the end the topics had when it
 * started and exits; with --follow it waits for more until Ctrl-C, SIGTERM or --limit.
 * It reads in a throw-away consumer group and commits nothing, so it never moves the
 * runtime's offsets and two terminals can both read everything.
 */
export async function consumeCommand(opts: ConsumeOptions, config: Config): Promise<number> {
  await probeKafka(config.brokers);
  const log = createLogger(opts.logLevel, 2);
  const kafka = new Kafka({ ...kafkaConfig(config, log), connectionTimeout: KAFKA_CONNECT_TIMEOUT_MS, retry: { initialRetryTime: 100, retries: 3 } });
  const ends = await checkTopics(kafka, opts, config);
  const consumer = kafka.consumer({ groupId: `mlstream-consume-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 250, sessionTimeout: 10_000 });
  await consumer.connect();
  const out = new Printer(opts);
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    finish(ExitCodes.OK);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await consumer.subscribe({ topics: [...opts.topics], fromBeginning: opts.from === 'beginning' });
    // After the first fetch the starting offsets are fixed: from here on, nothing written is missed.
    const removeListener = consumer.on(consumer.events.FETCH, () => {
      removeListener();
      if (opts.follow) process.stderr.write(`following ${opts.topics.join(', ')} from the ${opts.from} (Ctrl-C stops)\n`);
    });
    // kafkajs restarts the consumer after retriable failures (the broker went away): say so rather than fall silent.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      process.stderr.write(`mlstream consume: reading failed: ${payload.error.message}${payload.restart ? '; retrying' : ''}\n`);
      if (!payload.restart) finish(ExitCodes.FAILED);
    });
    await run(consumer, opts, out, ends, finish);
    if (ends && ends.size === 0) finish(ExitCodes.OK);
    return await finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await consumer.disconnect().catch(() => undefined);
    // The terminal echoed ^C without a line break.
    const newline = signalled && process.stderr.isTTY ? '\n' : '';
    if (!opts.json) process.stderr.write(`${newline}${out.count} record${out.count === 1 ? '' : 's'} read\n`);
  }
}

/** Refuses topics that do not exist; returns where reading stops when not following. */
async function checkTopics(kafka: Kafka, opts: ConsumeOptions, config: Config): Promise<EndOffsets | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = opts.topics.filter((t) => !existing.has(t));
    if (missing.length) {
      throw new CliError(`topic ${missing.join(', ')} does not exist on ${config.brokers.join(',')}`, undefined, 'create the topics with `mlstream topics create`, or name another with --topic', ExitCodes.FAILED);
    }
    if (opts.follow || opts.from === 'end') return opts.follow ? undefined : new Map();
    const ends: EndOffsets = new Map();
    for (const topic of opts.topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}/${p.partition}`, BigInt(p.high));
      }
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

function run(consumer: Consumer, opts: ConsumeOptions, out: Printer, ends: EndOffsets | undefined, finish: (code: number) => void): Promise<void> {
  return consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (opts.limit !== undefined && out.count >= opts.limit) break;
        out.print({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key?.toString('utf8') ?? null,
          headers: headerStrings(m.headers),
          value: m.value?.toString('utf8') ?? null,
        });
      }
      if (opts.limit !== undefined && out.count >= opts.limit) return finish(ExitCodes.OK);
      if (!ends) return;
      const key = `${batch.topic}/${batch.partition}`;
      const end = ends.get(key);
      if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) ends.delete(key);
      if (ends.size === 0) finish(ExitCodes.OK);
    },
  });
}

class Printer {
  count = 0;
  private readonly color: boolean;

  constructor(private readonly opts: ConsumeOptions) {
    this.color = Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined;
  }

  print(r: ConsumedRecord): void {
    this.count++;
    process.stdout.write(this.opts.json ? jsonLine(r) : prettyLine(r, { color: this.color }));
  }
}

function headerStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  return out;
}
