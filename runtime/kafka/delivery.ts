import type { KafkaClient, OutputRecord as Message, OutputSender as Producer, TopicRecords as TopicMessages } from './port.js';
import type { Logger } from '../log.js';

/**
 * The runtime gives up on a slice: its outputs could not be acknowledged (or its offsets
 * committed) in time, or Kafka refused them for good. Nothing after the last commit is
 * lost — a restart resumes there — so the process exits non-zero instead of spinning.
 * `retriable = false` is what kafkajs reads to crash the consumer rather than restart it.
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  readonly retriable = false;
}

/** Kafka errors that mean the group moved on: the slice's partition may belong to another member now. */
const REBALANCE_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);

export function isRebalance(e: unknown): boolean {
  return REBALANCE_TYPES.has(String((e as { type?: unknown }).type));
}

/** kafkajs wraps the error that exhausted its retries; whether to try again is the innermost error's call. */
export function isRetriable(e: unknown): boolean {
  let inner = e as { cause?: unknown; retriable?: unknown };
  while (inner.cause && typeof inner.cause === 'object' && inner.cause !== inner) inner = inner.cause as typeof inner;
  return inner.retriable !== false;
}

export function describe(e: unknown): string {
  const err = e as { name?: string; message?: string; type?: string };
  return `${err.name ?? 'Error'}${err.type ? ` ${err.type}` : ''}: ${err.message ?? String(e)}`;
}

/** The innermost error's Kafka type (kafkajs wraps the protocol error that ended its attempts). */
export function kafkaErrorType(e: unknown): string | undefined {
  let inner = e as { cause?: unknown; type?: unknown };
  for (let i = 0; i < 10 && inner; i++) {
    if (typeof inner.type === 'string') return inner.type;
    if (!inner.cause || typeof inner.cause !== 'object') break;
    inner = inner.cause as typeof inner;
  }
  return undefined;
}

export interface OutputLimits {
  /** A produce request carries at most this many bytes of keys, values and headers (one larger message goes alone). */
  readonly maxRequestBytes: number;
  /** Where an output Kafka refuses as too large is replaced by a small error record. */
  readonly errorsTopic?: string;
  /** The small error record's value for a refused output; absent: the refusal gives up on the slice. */
  readonly refusedOutput?: (original: Message, reason: string) => string;
}

/** Bytes a message adds to a produce request, near enough: its key, value and headers, plus record framing. */
const RECORD_OVERHEAD_BYTES = 70;

function messageBytes(m: Message): number {
  let n = RECORD_OVERHEAD_BYTES + byteLength(m.key) + byteLength(m.value);
  const headers = m.headers;
  if (headers) for (const k in headers) n += k.length + byteLength(headers[k] as string | Buffer | undefined);
  return n;
}

function byteLength(v: string | Buffer | null | undefined): number {
  return v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/** Splits a slice's outputs into requests of at most `maxBytes` each, keeping every topic's messages in order. */
export function splitRequests(topicMessages: readonly TopicMessages[], maxBytes: number): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let size = 0;
  for (const { topic, messages } of topicMessages) {
    let run: Message[] = [];
    for (const m of messages) {
      const bytes = messageBytes(m);
      if (size + bytes > maxBytes && size > 0) {
        if (run.length) current.push({ topic, messages: run });
        requests.push(current);
        current = [];
        run = [];
        size = 0;
      }
      run.push(m);
      size += bytes;
    }
    if (run.length) current.push({ topic, messages: run });
  }
  if (current.length) requests.push(current);
  return requests;
}

/** Backoff between produce attempts: doubling from the first, capped. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 1000;

/**
 * Produces a slice's outputs with acks from all in-sync replicas, retrying the whole slice
 * until a deadline. kafkajs' own produce retries are off: kafkajs 2.2.4, retrying a send
 * that spans several brokers, skips the brokers that already answered — even when a
 * partition that failed elsewhere has just moved to one of them — and resolves with those
 * messages never written (a silent loss on every leader move). Resending the whole slice
 * instead can write some outputs twice; the slice is not committed yet, which is what
 * at-least-once allows and what the `mlstream-source` header lets a consumer detect.
 */
export class OutputProducer {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly client: KafkaClient,
    private readonly log: Logger,
    private readonly limits: OutputLimits = { maxRequestBytes: 900_000 },
  ) {}

  async connect(): Promise<void> {
    await this.current();
  }

  /**
   * Delivers a slice's outputs in requests under the size limit, each retried on its own.
   * A request Kafka refuses as too large is halved until the refused output stands alone;
   * that output is then replaced by a small error record on the errors topic, so one huge
   * prediction cannot make the runtime exit on every start.
   */
  async deliver(topicMessages: TopicMessages[], deadlineAt: number, giveUp: () => boolean, what: string): Promise<void> {
    for (const request of splitRequests(topicMessages, this.limits.maxRequestBytes)) await this.deliverRequest(request, deadlineAt, giveUp, what);
  }

  private async deliverRequest(request: TopicMessages[], deadlineAt: number, giveUp: () => boolean, what: string): Promise<void> {
    try {
      await this.send(request, deadlineAt, giveUp, what);
    } catch (e) {
      if (!(e instanceof TooLargeError)) throw e;
      const all = request.flatMap(({ topic, messages }) => messages.map((m) => ({ topic, m })));
      if (all.length > 1) {
        const half = Math.ceil(all.length / 2);
        for (const part of [all.slice(0, half), all.slice(half)]) await this.deliverRequest(regroup(part), deadlineAt, giveUp, what);
        return;
      }
      const { topic, m } = all[0]!;
      const { errorsTopic, refusedOutput } = this.limits;
      if (!refusedOutput || !errorsTopic || m.headers?.[REFUSED_HEADER] !== undefined) {
        throw new DeliveryError(`Kafka refused an output of ${what} as too large: ${e.message}`);
      }
      this.log.warn({ slice: what, topic, bytes: byteLength(m.value), reason: e.message }, 'an output was refused as too large; writing a small error record in its place');
      const replacement: Message = { key: m.key ?? null, value: refusedOutput(m, e.message), headers: { ...m.headers, [REFUSED_HEADER]: topic } };
      await this.deliverRequest([{ topic: errorsTopic, messages: [replacement] }], deadlineAt, giveUp, what);
    }
  }

  private async send(topicMessages: TopicMessages[], deadlineAt: number, giveUp: () => boolean, what: string): Promise<void> {
    if (topicMessages.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      let sending: Promise<unknown> | undefined;
      try {
        const producer = await beforeDeadline(this.current(), deadlineAt);
        sending = producer.send(topicMessages);
        await beforeDeadline(sending, deadlineAt);
        if (attempt > 1) this.log.info({ attempt, slice: what }, 'outputs delivered after retrying');
        return;
      } catch (e) {
        if (e instanceof DeadlineError) {
          this.abandon(sending);
          throw new DeliveryError(`outputs of ${what} were not acknowledged within the delivery timeout (${attempt} attempts)`);
        }
        if (TOO_LARGE_TYPES.has(kafkaErrorType(e) ?? '')) throw new TooLargeError(describe(e));
        if (!isRetriable(e)) throw new DeliveryError(`Kafka refused the outputs of ${what}: ${describe(e)}`);
        if (giveUp()) throw new DeliveryError(`stopping while the outputs of ${what} were undelivered: ${describe(e)}`);
        const pause = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 1));
        if (Date.now() + pause >= deadlineAt) throw new DeliveryError(`outputs of ${what} were not acknowledged within the delivery timeout (${attempt} attempts): ${describe(e)}`);
        if (attempt % 5 === 1) this.log.warn({ attempt, slice: what, reason: describe(e) }, 'produce failed; resending the slice');
        await sleep(pause);
      }
    }
  }

  async disconnect(): Promise<void> {
    await this.discard();
  }

  private current(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.client.sender();
      try {
        await producer.connect();
      } catch (e) {
        await producer.disconnect().catch(() => undefined);
        throw e;
      }
      this.producer = producer;
      return producer;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** kafkajs cannot cancel a send: the producer is closed once the abandoned attempt settles, or its retries would reconnect. */
  private abandon(sending: Promise<unknown> | undefined): void {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) void (sending ?? Promise.resolve()).catch(() => undefined).then(() => producer.disconnect().catch(() => undefined));
  }

  private async discard(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch((e: unknown) => this.log.debug({ reason: describe(e) }, 'producer disconnect failed'));
  }
}

class DeadlineError extends Error {}

/** Kafka said a request or a record is too large; the producer splits it rather than giving up. */
class TooLargeError extends Error {}
const TOO_LARGE_TYPES = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Header on a replacement record, naming the topic the refused output was for (a replacement is never replaced). */
export const REFUSED_HEADER = 'mlstream-refused-output';

function regroup(items: ReadonlyArray<{ topic: string; m: Message }>): TopicMessages[] {
  const out: TopicMessages[] = [];
  for (const { topic, m } of items) {
    const last = out[out.length - 1];
    if (last?.topic === topic) last.messages.push(m);
    else out.push({ topic, messages: [m] });
  }
  return out;
}

function beforeDeadline<T>(work: Promise<T>, deadlineAt: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), Math.max(0, deadlineAt - Date.now()));
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work`, rejecting with `message` if it takes longer than `ms`. */
export function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return beforeDeadline(work, Date.now() + ms).catch((e: unknown) => {
    throw e instanceof DeadlineError ? new Error(message) : e;
  });
}
