import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import type { LocalBroker } from '../broker/index.js';
import { startChild } from './child.js';
import { countMessages, readAll } from './outputs.js';
import { BENCH_ENV, TEXT_PACKAGE } from './systems.js';
import { sleep } from './throughput.js';

/**
 * Start-up: from spawning `mlstream serve` to its first prediction, with one record already
 * waiting, for the compiled runtime (bin/mlstream.js → dist/) and for the same sources run
 * through tsx. Load, package check, warm-up run, consumer-group join and the first slice are
 * all inside; the time is the prediction's producer timestamp minus the spawn time.
 */
export interface StartupResult {
  readonly label: string;
  readonly seconds: readonly number[];
}

const WAITING_TOPIC = 'bench-startup-input';

export async function measureStartup(root: string, work: string, broker: LocalBroker, kafka: Kafka, admin: Admin, rounds: number): Promise<StartupResult[]> {
  const models = join(work, 'models-startup');
  mkdirSync(models, { recursive: true });
  cpSync(join(root, 'model-packages', TEXT_PACKAGE), join(models, TEXT_PACKAGE), { recursive: true });
  await broker.command(`topic ${WAITING_TOPIC} 1`);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: WAITING_TOPIC, acks: -1, messages: [{ key: 'startup', value: JSON.stringify({ id: 'startup', text: 'Win a free prize now' }) }] });
  await producer.disconnect();
  const variants: Array<{ label: string; args: string[]; env: Record<string, string> }> = [
    { label: `mlstream, ${TEXT_PACKAGE} (compiled: bin/mlstream.js)`, args: [join(root, 'bin/mlstream.js'), 'serve'], env: {} },
    { label: `mlstream, ${TEXT_PACKAGE}, compiled, KAFKA_CLIENT=librdkafka`, args: [join(root, 'bin/mlstream.js'), 'serve'], env: { KAFKA_CLIENT: 'librdkafka' } },
    { label: `mlstream, ${TEXT_PACKAGE}, TypeScript through tsx`, args: ['--import', 'tsx', join(root, 'runtime/cli.ts'), 'serve'], env: {} },
  ];
  const seconds = variants.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, v] of variants.entries()) {
      const out = `startup-${round}-${i}`;
      await broker.command(`topic ${out} 1`);
      await broker.command(`topic ${out}-errors 1`);
      const child = startChild(v.args, {
        ...BENCH_ENV,
        KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
        MODELS_DIR: models,
        KAFKA_INCOMING_MSG_TOPIC: WAITING_TOPIC,
        KAFKA_PREDICTIONS_TOPIC: out,
        KAFKA_ERRORS_TOPIC: `${out}-errors`,
        KAFKA_GROUP_ID: `${out}-group`,
        KAFKA_STARTING_OFFSET: 'earliest',
        ...v.env,
      }, root);
      try {
        const deadline = Date.now() + 60_000;
        while ((await countMessages(admin, [out])) < 1) {
          const why = child.exitCode() !== null ? `exited with code ${child.exitCode()}` : Date.now() > deadline ? 'no output within 60 s' : undefined;
          if (why) throw new Error(`${v.label}: ${why}; its last line: ${child.logs.at(-1) ?? '(none)'}\n${child.logs.slice(-10).join('\n')}`);
          await sleep(10);
        }
      } finally {
        await child.stop();
      }
      const [first] = await readAll(kafka, admin, [out]);
      seconds[i]!.push((first!.timestamp - child.startedAt) / 1000);
    }
  }
  return variants.map((v, i) => ({ label: v.label, seconds: seconds[i]! }));
}
