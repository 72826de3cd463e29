import type { Consumer, Kafka, Producer } from 'kafkajs';
import { HEADER_SOURCE } from '../engine/messages.js';
import type { Logger } from '../log.js';
import type { InputRecord, RecordFailure, Trainer } from './trainer.js';

/**
 * Feeds a Trainer from Kafka. Micro-batches are cut by offsets, not by what a fetch
 * happened to return: `batchSize` consecutive records of one partition, so a restarted
 * trainer cuts the same batches. After each batch: records that could not be learned go
 * to the errors topic, a version is written when due, the checkpoint is written, and only
 * then the offsets are committed. Records below the checkpoint's offset (committed later
 * than the checkpoint was written, when the process died in between) are skipped.
 *
 * A partial batch is learned only when the trainer stops at the end of the topic
 * (`--until-end`); on SIGTERM it is left for the next run, which keeps batch boundaries
 * where an uninterrupted run would put them.
 */

export interface ConsumerSettings {
  readonly topic: string;
  readonly groupId: string;
  readonly errorsTopic: string;
  readonly batchSize: number;
  readonly untilEnd: boolean;
  readonly everySeconds: number | undefined;
  readonly sessionTimeoutMs: number;
  readonly maxWaitTimeInMs: number;
  readonly holdoutTopic: string | undefined;
}

export interface TrainingRun {
  /** Resolves when the run ended: caught up (--until-end) or stopped. */
  readonly done: Promise<void>;
  /** Stops consuming; the work in hand finishes first. */
  stop(): Promise<void>;
}

export async function startTraining(kafka: Kafka, trainer: Trainer, s: ConsumerSettings, log: Logger): Promise<TrainingRun> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(s.topic)) ends.set(p.partition, BigInt(p.high));
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer: Consumer = kafka.consumer({ groupId: s.groupId, sessionTimeout: s.sessionTimeoutMs, heartbeatInterval: 500, maxWaitTimeInMs: s.maxWaitTimeInMs });
  await consumer.connect();
  await consumer.subscribe({ topic: s.topic, fromBeginning: true });

  const pending = new Map<number, InputRecord[]>();
  const fetched = new Map<number, bigint>();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let stopping = false;
  let failure: Error | undefined;
  let chain: Promise<void> = Promise.resolve();
  /**
   * Training, publishing and checkpointing run one at a time, in order. A failure there is
   * not the data's (records fail one by one inside the trainer) but the disk's or Kafka's:
   * the run stops without committing past its last checkpoint.
   */
  const serial = (work: () => Promise<void>): Promise<void> =>
    (chain = chain.then(async () => {
      if (failure) return;
      try {
        await work();
      } catch (e) {
        failure = e as Error;
        stopping = true;
        finish();
      }
    }));

  const caughtUp = (): boolean =>
    s.untilEnd && [...ends].every(([p, end]) => trainer.nextOffset(p) >= end || (fetched.get(p) ?? -1n) >= end);

  async function afterBatch(partition: number, failures: RecordFailure[]): Promise<void> {
    if (failures.length) await produceFailures(producer, s, partition, failures);
    if (trainer.versionDue()) await publish('records');
    await trainer.checkpoint();
    await consumer.commitOffsets([{ topic: s.topic, partition, offset: String(trainer.nextOffset(partition)) }]);
  }

  async function publish(reason: string): Promise<void> {
    const v = await trainer.publish();
    if (v) log.info({ version: v.version, dir: v.dir, reason, ...trainer.status().prequential, consumed: trainer.status().records }, 'version written');
  }

  async function learn(partition: number, batch: InputRecord[]): Promise<void> {
    const failures = await trainer.trainBatch(partition, batch);
    await afterBatch(partition, failures);
    const st = trainer.status();
    log.debug({ partition, ...st.prequential, consumed: st.records }, 'micro-batch learned');
  }

  async function flushAtEnd(): Promise<void> {
    for (const [p, rest] of pending) {
      if (rest.length) await learn(p, rest.splice(0));
    }
  }

  /** The last version and checkpoint, whether the run ended at the topic's end or was stopped. */
  async function finalVersion(): Promise<void> {
    if (trainer.hasNewSinceVersion()) await publish(s.untilEnd ? 'end of topic' : 'stopping');
    await trainer.checkpoint();
  }

  const timer =
    s.everySeconds === undefined
      ? undefined
      : setInterval(() => {
          void serial(async () => {
            if (trainer.hasNewSinceVersion()) await publish('timer');
          });
        }, s.everySeconds * 1000);

  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
      const partition = batch.partition;
      const queue = pending.get(partition) ?? [];
      pending.set(partition, queue);
      const end = ends.get(partition);
      for (const m of batch.messages) {
        if (!isRunning() || isStale() || stopping) return;
        const offset = BigInt(m.offset);
        fetched.set(partition, offset + 1n);
        // Already learned, already queued (a fetch repeated after a rebalance), or past the end this run stops at.
        if (offset < trainer.nextOffset(partition) || offset <= (queue.at(-1)?.offset ?? -1n)) continue;
        if (s.untilEnd && end !== undefined && offset >= end) continue;
        queue.push({ offset, value: m.value });
        if (queue.length >= s.batchSize) {
          const take = queue.splice(0, s.batchSize);
          await serial(() => learn(partition, take));
          await heartbeat();
        }
      }
      if (caughtUp() && !stopping) {
        stopping = true;
        await serial(flushAtEnd);
        finish();
      }
    },
  });
  // Nothing new to learn at all: the run is already at the end.
  if (caughtUp()) {
    stopping = true;
    void serial(flushAtEnd).then(() => finish());
  }

  const holdout = s.holdoutTopic === undefined ? undefined : await startHoldout(kafka, s, s.holdoutTopic, serial, trainer);

  const done = finished.then(async () => {
    if (timer) clearInterval(timer);
    await serial(finalVersion);
    await holdout?.disconnect();
    await consumer.disconnect();
    await producer.disconnect();
    if (failure) throw failure;
  });
  return {
    done,
    async stop() {
      stopping = true;
      finish();
      await done;
    },
  };
}

/**
 * Reads the hold-out topic from its beginning on every start (it commits nothing), handing
 * its records to the trainer between micro-batches, never to learn.
 */
async function startHoldout(kafka: Kafka, s: ConsumerSettings, topic: string, serial: (work: () => Promise<void>) => Promise<void>, trainer: Trainer): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `${s.groupId}-holdout`, sessionTimeout: s.sessionTimeoutMs, heartbeatInterval: 500, maxWaitTimeInMs: s.maxWaitTimeInMs });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const records = batch.messages.map((m) => ({ offset: BigInt(m.offset), value: m.value }));
      await serial(async () => void (await trainer.holdOut(records)));
    },
  });
  return consumer;
}

async function produceFailures(producer: Producer, s: ConsumerSettings, partition: number, failures: RecordFailure[]): Promise<void> {
  await producer.send({
    topic: s.errorsTopic,
    acks: -1,
    messages: failures.map((f) => {
      const source = { topic: s.topic, partition, offset: String(f.offset) };
      return {
        value: JSON.stringify({ error: f.error, source, stage: 'train' }),
        headers: { [HEADER_SOURCE]: `${s.topic}/${partition}/${f.offset}` },
      };
    }),
  });
}
