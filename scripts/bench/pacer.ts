/**
 * Offers a fixed load: produces corpus records to a topic at `rate` records/s for
 * `seconds`, as its own process so pacing never competes with the measuring side's event
 * loop. Each record's id is `<prefix><i>`; the moment it was due (ms since epoch, fractional)
 * is written at index i of a Float64Array file, and is also the record's Kafka timestamp
 * (whole ms).
 *
 * Records due are sent together every `linger-ms`, as a producer with that linger would. The
 * local broker returns every stored batch that fits a fetch's byte limits (its Fetch is
 * patched to, scripts/broker/patch-fetch.mjs), so a consumer that falls behind catches up
 * with bigger fetches, as on a real broker.
 *
 * `node --import tsx scripts/bench/pacer.ts <bootstrap> <topic> <rate> <seconds> <times-file> <id-prefix> <linger-ms>`
 * Prints one JSON line when done: {"sent": n, "lateMs": worst lag behind schedule and linger}.
 */
import { writeFileSync } from 'node:fs';
import type { Message } from 'kafkajs';
import { loadCorpus } from './corpus.js';
import { benchKafka, nowMs } from './outputs.js';

const [bootstrap, topic, rateArg, secondsArg, timesFile, prefix, lingerArg] = process.argv.slice(2);
if (!bootstrap || !topic || !rateArg || !secondsArg || !timesFile || !prefix || !lingerArg) {
  process.stderr.write('usage: pacer.ts <bootstrap> <topic> <rate> <seconds> <times-file> <id-prefix> <linger-ms>\n');
  process.exit(2);
}
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const corpus = await loadCorpus();
// Texts are serialized once, so pacing spends its CPU on producing, not on JSON.
const texts = corpus.texts.map((text) => JSON.stringify(text));
const producer = benchKafka(bootstrap, 'mlstream-bench-pacer').producer({ allowAutoTopicCreation: false });
await producer.connect();

const lingerMs = Number(lingerArg);
const sentAt = new Float64Array(total);
const inFlight = new Set<Promise<unknown>>();
let sent = 0;
let lateMs = 0;
let failure: Error | undefined;
const started = nowMs();

await new Promise<void>((done) => {
  const tick = (): void => {
    const now = nowMs();
    const due = Math.min(total, Math.floor(((now - started) * rate) / 1000));
    if (due > sent) {
      const messages: Message[] = [];
      for (; sent < due; sent++) {
        const id = `${prefix}${sent}`;
        // The moment the application would have produced it; the linger is part of its latency.
        const scheduled = started + (sent * 1000) / rate;
        sentAt[sent] = scheduled;
        lateMs = Math.max(lateMs, now - scheduled - lingerMs);
        messages.push({ key: id, value: `{"id":"${id}","text":${texts[sent % texts.length]}}`, timestamp: String(Math.floor(scheduled)) });
      }
      const sending = producer.send({ topic, acks: 1, messages });
      inFlight.add(sending);
      sending.then(
        () => inFlight.delete(sending),
        (e: Error) => (failure ??= e),
      );
    }
    if (sent >= total || failure) done();
    else setTimeout(tick, Math.max(0, started + (Math.floor((nowMs() - started) / lingerMs) + 1) * lingerMs - nowMs()));
  };
  tick();
});
await Promise.allSettled([...inFlight]);
await producer.disconnect();
if (failure) {
  process.stderr.write(`pacer: produce failed: ${failure.message}\n`);
  process.exit(1);
}
writeFileSync(timesFile, Buffer.from(sentAt.buffer));
process.stdout.write(`${JSON.stringify({ sent, lateMs })}\n`);
