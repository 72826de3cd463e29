import type { Config } from '../config.js';
import { createKafka } from '../kafka/client.js';
import { createLogger } from '../log.js';

/** `mlstream topics [list|create]`. */
export async function topicsCommand(action: string, config: Config, partitions: number, replication: number): Promise<number> {
  if (action !== 'list' && action !== 'create') {
    process.stderr.write(`mlstream topics: unknown action "${action}" (use list or create)\n`);
    return 2;
  }
  const admin = createKafka(config, createLogger(config.logLevel)).admin();
  await admin.connect();
  try {
    if (action === 'create') {
      const wanted = [config.inputTopic, config.predictionsTopic, config.errorsTopic];
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length) {
        await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: replication })) });
      }
      process.stdout.write(`created: ${missing.join(', ') || '(none)'}; already there: ${wanted.filter((t) => existing.has(t)).join(', ') || '(none)'}\n`);
    } else {
      for (const t of (await admin.listTopics()).sort()) process.stdout.write(`${t}\n`);
    }
    return 0;
  } finally {
    await admin.disconnect();
  }
}
