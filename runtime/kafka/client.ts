import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/** A kafkajs client from the runtime config, logging through pino. */
export function createKafka(config: Pick<Config, 'brokers' | 'clientId' | 'ssl' | 'sasl'>, log: Logger): Kafka {
  const kafkaLog = log.child({ component: 'kafkajs' });
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      const level = entry.level <= KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
      kafkaLog[level]({ namespace: entry.namespace, ...extra }, message);
    },
    retry: { initialRetryTime: 100, retries: 8 },
  };
  if (config.sasl) options.sasl = config.sasl as KafkaConfig['sasl'];
  return new Kafka(options);
}
