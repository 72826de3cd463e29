import type { Kafka, Message } from 'kafkajs';
import { loadMails } from '../examples/spam-corpus.js';

/**
 * The benchmark's input: the SpamAssassin mails the text example was trained on, as the
 * records a user would send (`{"id", "text"}`), repeated until there are `n` of them. Each
 * repetition gets fresh ids, so every output can be traced to exactly one input.
 */
export interface Corpus {
  readonly mails: number;
  readonly texts: readonly string[];
}

export async function loadCorpus(): Promise<Corpus> {
  const mails = await loadMails();
  return { mails: mails.length, texts: mails.map((m) => m.text) };
}

export function recordId(i: number): string {
  return `r${i}`;
}

/** The i-th input record as Kafka sends it: key and `id` are the same string. */
export function inputMessage(corpus: Corpus, i: number): { key: string; value: Buffer } {
  const id = recordId(i);
  return { key: id, value: Buffer.from(JSON.stringify({ id, text: corpus.texts[i % corpus.texts.length] })) };
}

/** Bytes a produce request carries at most: well under the broker's default message.max.bytes. */
const REQUEST_BYTES = 4 * 1024 * 1024;
const IN_FLIGHT = 4;

/**
 * Writes records 0..n-1 to `topic` before anything is timed. Several requests are in
 * flight at once; order across records does not matter to any measurement.
 */
export async function preload(kafka: Kafka, topic: string, n: number, messageAt: (i: number) => { key: string; value: Buffer }): Promise<{ bytes: number; ms: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  let bytes = 0;
  try {
    const inFlight = new Set<Promise<unknown>>();
    let chunk: Message[] = [];
    let chunkBytes = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const sending = producer.send({ topic, acks: -1, messages: chunk });
      chunk = [];
      chunkBytes = 0;
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending)).catch(() => undefined);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    };
    for (let i = 0; i < n; i++) {
      const m = messageAt(i);
      chunk.push(m);
      chunkBytes += m.value.length;
      bytes += m.value.length;
      if (chunkBytes >= REQUEST_BYTES) await flush();
    }
    await flush();
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return { bytes, ms: performance.now() - started };
}
