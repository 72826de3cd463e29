import { Kafka, logLevel, type Admin } from 'kafkajs';

/** One output message as the benchmark checks it. */
export interface Output {
  readonly topic: string;
  readonly key: string;
  /** The `id` in the message body; undefined when the body carries none (the plain pipe). */
  readonly id: unknown;
  /** The producer's timestamp (ms since epoch). */
  readonly timestamp: number;
  /** When the collecting consumer received it (ms since epoch, fractional). */
  readonly arrivedAt: number;
}

export function benchKafka(bootstrap: string, clientId = 'mlstream-bench'): Kafka {
  return new Kafka({ clientId, brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

/** Messages in the topics so far: the sum of their partitions' high watermarks. */
export async function countMessages(admin: Admin, topics: readonly string[]): Promise<number> {
  let total = 0;
  for (const topic of topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high) - Number(p.low);
  }
  return total;
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The id is only looked for in the short bodies outputs have; an echoed input is never parsed. */
const ID_SCAN_BYTES = 8192;

function parseOutput(topic: string, key: Buffer | null, value: Buffer | null, timestamp: string, arrivedAt: number): Output {
  let id: unknown;
  if (value && value.length <= ID_SCAN_BYTES) {
    try {
      id = (JSON.parse(value.toString('utf8')) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
  }
  return { topic, key: key ? key.toString('utf8') : '', id: id ?? undefined, timestamp: Number(timestamp), arrivedAt };
}

/**
 * Consumes `topics` from the beginning with a fresh group, calling `onBatch` with what
 * arrived, until `stop()` is called. Used both live (latency) and after a run (checking).
 */
export async function collect(kafka: Kafka, topics: readonly string[], onBatch: (outputs: Output[]) => void): Promise<{ stop(): Promise<void> }> {
  const consumer = kafka.consumer({
    groupId: `bench-collector-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    // The local broker answers a waiting fetch as soon as outputs arrive, so arrival times are exact.
    maxWaitTimeInMs: 500,
    maxBytes: 50 * 1024 * 1024,
    maxBytesPerPartition: 10 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  let joined!: () => void;
  const joinedOnce = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const arrivedAt = nowMs();
      onBatch(batch.messages.map((m) => parseOutput(batch.topic, m.key, m.value, m.timestamp, arrivedAt)));
    },
  });
  await joinedOnce;
  return { stop: () => consumer.disconnect() };
}

/** Reads every message now in `topics` (they are no longer written to). */
export async function readAll(kafka: Kafka, admin: Admin, topics: readonly string[], timeoutMs = 120_000): Promise<Output[]> {
  const expected = await countMessages(admin, topics);
  const seen: Output[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  if (expected === 0) return seen;
  const collector = await collect(kafka, topics, (outputs) => {
    seen.push(...outputs);
    if (seen.length >= expected) done();
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await collector.stop();
  if (seen.length < expected) throw new Error(`read ${seen.length} of the ${expected} messages in ${topics.join(', ')} within ${timeoutMs} ms`);
  return seen;
}

export interface IdCheck {
  readonly ok: boolean;
  readonly missing: number;
  readonly duplicated: number;
  readonly unexpected: number;
  /** Outputs whose body id differs from their key. */
  readonly mismatched: number;
  readonly examples: string[];
}

/** Every expected id exactly once across the outputs, nothing else, and body ids matching keys. */
export function checkIds(outputs: readonly Output[], expected: Iterable<string>): IdCheck {
  const counts = new Map<string, number>();
  let mismatched = 0;
  const examples: string[] = [];
  for (const o of outputs) {
    counts.set(o.key, (counts.get(o.key) ?? 0) + 1);
    if (o.id !== undefined && o.id !== null && o.id !== o.key) {
      mismatched++;
      if (examples.length < 5) examples.push(`key ${o.key} carries id ${JSON.stringify(o.id)}`);
    }
  }
  let missing = 0;
  let duplicated = 0;
  let known = 0;
  for (const id of expected) {
    const c = counts.get(id) ?? 0;
    if (c > 0) known++;
    if (c === 0) {
      missing++;
      if (examples.length < 5) examples.push(`id ${id} missing`);
    } else if (c > 1) {
      duplicated++;
      if (examples.length < 5) examples.push(`id ${id} appears ${c} times`);
    }
  }
  const unexpected = counts.size - known;
  return { ok: missing === 0 && duplicated === 0 && unexpected === 0 && mismatched === 0, missing, duplicated, unexpected, mismatched, examples };
}
