import type { Config } from '../config.js';
import { createKafka } from '../kafka/client.js';
import { askForTopics } from '../kafka/kafkajs-client.js';
import { createLogger } from '../log.js';

/** `mlstream topics [list|create]`. */
export async function topicsCommand(action: string, config: Config, partitions: number, replication: number): Promise<number> {
  if (action !== 'list' && action !== 'create') {
    process.stderr.write(`mlstream topics: unknown action "${action}" (use list or create)\n`);
    return 2;
  }
  const kafka = createKafka(config, createLogger(config.logLevel));
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (action === 'create') {
      const wanted = [config.inputTopic, config.predictionsTopic, config.errorsTopic];
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      let how = '';
      if (missing.length) {
        try {
          await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: replication })) });
        } catch (e) {
          // A broker without CreateTopics (librdkafka's mock cluster, the local broker `bash init.sh`
          // runs) creates a topic when a client asks for it with auto-creation allowed, as `serve`
          // does for the topics packages name (kafka/runner.ts). Its default partition count then.
          await askForTopics(kafka, missing, config.groupId);
          const now = new Set(await admin.listTopics());
          if (missing.some((t) => !now.has(t))) throw e;
          how = ' (the broker has no CreateTopics: created by asking for them with auto-creation allowed, with the broker\'s default partition count)';
        }
      }
      process.stdout.write(`created: ${missing.join(', ') || '(none)'}${how}; already there: ${wanted.filter((t) => existing.has(t)).join(', ') || '(none)'}\n`);
    } else {
      for (const t of (await admin.listTopics()).sort()) process.stdout.write(`${t}\n`);
    }
    return 0;
  } finally {
    await admin.disconnect();
  }
}
