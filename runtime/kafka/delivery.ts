import { Partitioners, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
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
    private readonly kafka: Kafka,
    private readonly log: Logger,
  ) {}

  async connect(): Promise<void> {
    await this.current();
  }

  async deliver(topicMessages: TopicMessages[], deadlineAt: number, giveUp: () => boolean, what: string): Promise<void> {
    if (topicMessages.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      let sending: Promise<unknown> | undefined;
      try {
        const producer = await beforeDeadline(this.current(), deadlineAt);
        sending = producer.sendBatch({ acks: -1, topicMessages });
        await beforeDeadline(sending, deadlineAt);
        if (attempt > 1) this.log.info({ attempt, slice: what }, 'outputs delivered after retrying');
        return;
      } catch (e) {
        if (e instanceof DeadlineError) {
          this.abandon(sending);
          throw new DeliveryError(`outputs of ${what} were not acknowledged within the delivery timeout (${attempt} attempts)`);
        }
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
      const producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
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
