import { type Admin } from 'kafkajs';
import { testKafka } from './kafka.js';
import type { RuntimeProcess } from './runtime-process.js';

/** One message read back from predictions or errors. */
export interface Output {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Record<string, unknown>;
  readonly headers: Record<string, string>;
  /** The input it answers, from the `mlstream-source` header. */
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: number };
}

/** An admin client kept open, for tests that poll the group often. */
export async function openAdmin(bootstrap: string): Promise<Admin> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  return admin;
}

/** The group's committed offset per partition of `topic` (-1: none yet), through an open admin. */
export async function committedWith(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

/**
 * Produces `messages` a chunk at a time, `everyMs` apart, resending a chunk until it is
 * acknowledged: records keep streaming while a test injects faults. kafkajs' own retries
 * are off because, across a partition leader move, they skip partitions silently (see
 * runtime/kafka/delivery.ts); a resent chunk may therefore land twice in the input topic.
 */
export async function feed(bootstrap: string, topic: string, messages: ReadonlyArray<{ key: string; value: string | Buffer }>, chunk = 100, everyMs = 100): Promise<void> {
  const producer = testKafka(bootstrap).producer({ retry: { retries: 0 } });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      for (let attempt = 1; ; attempt++) {
        try {
          await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
          break;
        } catch (e) {
          if (attempt >= 100) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    await producer.disconnect();
  }
}

/** SIGKILL by PID — no handler runs, nothing is flushed or committed — and wait for the exit. */
export async function kill9(rt: RuntimeProcess): Promise<void> {
  if (rt.child.exitCode === null && rt.child.signalCode === null) process.kill(rt.child.pid!, 'SIGKILL');
  await rt.exited();
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function withAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka(bootstrap).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** End offset of every partition of a topic. */
export function highWatermarks(bootstrap: string, topic: string): Promise<Map<number, number>> {
  return withAdmin(bootstrap, async (admin) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])));
}

/** The group's committed offset per partition of `topic` (-1: none yet). */
export function committedOffsets(bootstrap: string, groupId: string, topic: string): Promise<Map<number, number>> {
  return withAdmin(bootstrap, (admin) => committedWith(admin, groupId, topic));
}

/**
 * Polls until the group has committed every partition of `topic` up to its end — the
 * runtime commits only after a slice's outputs are acknowledged, so at that point every
 * output is in the output topics. Rejects with the last positions on timeout.
 */
export async function waitUntilCommitted(bootstrap: string, groupId: string, topic: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  const ends = await highWatermarks(bootstrap, topic);
  let committed = new Map<number, number>();
  while (Date.now() < until) {
    committed = await committedOffsets(bootstrap, groupId, topic);
    if ([...ends].every(([p, end]) => end === 0 || committed.get(p) === end)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`group ${groupId} did not commit ${topic} to its end within ${timeoutMs} ms: ends ${fmt(ends)}, committed ${fmt(committed)}`);
}

function fmt(m: Map<number, number>): string {
  return JSON.stringify(Object.fromEntries(m));
}

/** Reads every message now in `topics`, from the beginning up to each partition's end offset. */
export async function readAll(bootstrap: string, topics: string[], timeoutMs = 60_000): Promise<Output[]> {
  const remaining = new Map<string, number>();
  for (const topic of topics) {
    for (const [p, end] of await highWatermarks(bootstrap, topic)) if (end > 0) remaining.set(`${topic}/${p}`, end);
  }
  const out: Output[] = [];
  if (remaining.size === 0) return out;
  const consumer = testKafka(bootstrap).consumer({
    groupId: `reader-${process.pid}-${Date.now()}-${Math.random()}`,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const key = `${batch.topic}/${batch.partition}`;
        for (const m of batch.messages) {
          out.push(toOutput(batch.topic, batch.partition, m));
          if (Number(m.offset) + 1 >= (remaining.get(key) ?? 0)) remaining.delete(key);
        }
        if (remaining.size === 0) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`readAll: still waiting for ${[...remaining.keys()].join(', ')} after ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([finished, timedOut]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

function toOutput(topic: string, partition: number, m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }): Output {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  const [sTopic, sPartition, sOffset] = (headers['mlstream-source'] ?? '').split('/');
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString() : null,
    value: m.value ? (JSON.parse(m.value.toString()) as Record<string, unknown>) : {},
    headers,
    source: { topic: sTopic ?? '', partition: Number(sPartition), offset: Number(sOffset) },
  };
}

export interface DeliveryReport {
  /** Input keys with no output at all. */
  readonly missing: string[];
  /** Outputs beyond the first, per input key. */
  readonly duplicates: number;
  /** Keys with more than one output. */
  readonly duplicatedKeys: string[];
  /** Outputs grouped by input key. */
  readonly byKey: Map<string, Output[]>;
}

/** Accounts every input key against the outputs read back. */
export function account(inputKeys: readonly string[], outputs: readonly Output[]): DeliveryReport {
  const byKey = new Map<string, Output[]>();
  for (const o of outputs) {
    const k = o.key ?? '';
    const list = byKey.get(k);
    if (list) list.push(o);
    else byKey.set(k, [o]);
  }
  const missing = inputKeys.filter((k) => !byKey.has(k));
  let duplicates = 0;
  const duplicatedKeys: string[] = [];
  for (const k of inputKeys) {
    const n = byKey.get(k)?.length ?? 0;
    if (n > 1) {
      duplicates += n - 1;
      duplicatedKeys.push(k);
    }
  }
  return { missing, duplicates, duplicatedKeys, byKey };
}

/** A short human summary for assertion messages. */
export function summary(r: DeliveryReport): string {
  return `${r.missing.length} missing (first: ${r.missing.slice(0, 5).join(', ')}), ${r.duplicates} duplicates (first: ${r.duplicatedKeys.slice(0, 5).join(', ')})`;
}
