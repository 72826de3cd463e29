import { Kafka, logLevel, type Consumer, type IHeaders, type Message } from 'kafkajs';

/** The client id of the tests' own Kafka clients (proxies in front of the broker tell them apart by it). */
export const TEST_CLIENT_ID = 'mlstream-test';

export function testKafka(bootstrap: string): Kafka {
  return new Kafka({ clientId: TEST_CLIENT_ID, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

export async function produceAll(bootstrap: string, topic: string, messages: Message[]): Promise<void> {
  const producer = testKafka(bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface Received {
  readonly topic: string;
  readonly key: string | null;
  readonly value: unknown;
  readonly headers: Record<string, string>;
}

/**
 * Reads topics from the beginning with a fresh group until `done` says so or the
 * timeout passes; returns what it saw either way (the caller asserts).
 */
export async function collectUntil(
  bootstrap: string,
  topics: string[],
  done: (seen: Received[]) => boolean,
  timeoutMs: number,
): Promise<Received[]> {
  const seen: Received[] = [];
  const consumer: Consumer = testKafka(bootstrap).consumer({
    groupId: `collector-${process.pid}-${Date.now()}-${Math.random()}`,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const timer = setTimeout(finish, timeoutMs);
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        seen.push({
          topic: batch.topic,
          key: m.key ? m.key.toString() : null,
          value: m.value ? JSON.parse(m.value.toString()) : null,
          headers: headersToStrings(m.headers),
        });
      }
      if (done(seen)) finish();
    },
  });
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return seen;
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  return out;
}
