import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { kafkajsClient } from './kafkajs-client.js';
import { installFetchLeases } from './fetch-memory.js';
import { framedSocketFactory, installFrameReader } from './kafkajs-frames.js';
import { installProducePath } from './kafkajs-produce.js';
import { installRecordEncoder } from './kafkajs-records.js';
import { librdkafkaClient } from './librdkafka-client.js';
import { checkTlsHandshake } from './tls-check.js';
import type { KafkaClient } from './port.js';

export type ClientSettings = Pick<Config, 'brokers' | 'clientId' | 'ssl' | 'sasl'>;

/**
 * The kafkajs client options the runtime config maps to: brokers, client id, TLS (CA,
 * client certificate and key, verification) and SASL (PLAIN, SCRAM-SHA-256/512) go
 * through unchanged; kafkajs logs through pino.
 */
export function kafkaConfig(config: ClientSettings, log: Logger, socketFactory?: KafkaConfig['socketFactory']): KafkaConfig {
  const kafkaLog = log.child({ component: 'kafkajs' });
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      kafkaLog[levelOf(entry)]({ namespace: entry.namespace, ...extra }, message);
    },
    retry: { initialRetryTime: 100, retries: 8 },
  };
  if (config.sasl) options.sasl = { ...config.sasl } as KafkaConfig['sasl'];
  if (socketFactory) options.socketFactory = socketFactory;
  return options;
}

/**
 * kafkajs's level for an entry, except the answer to LeaveGroup: leaving is the last, best-effort
 * step of a shutdown (without it the coordinator drops the member at its session timeout), and
 * kafkajs logs an error whenever it cannot decode that answer (librdkafka-based brokers' v3
 * answer fails its decoder on every stop), which told operators something failed when nothing had.
 */
function levelOf(entry: LogEntry): 'error' | 'warn' | 'debug' {
  if (entry.namespace === 'Connection' && entry.log.message.startsWith('Response LeaveGroup')) return 'debug';
  return entry.level <= KafkaLogLevel.ERROR ? 'error' : entry.level === KafkaLogLevel.WARN ? 'warn' : 'debug';
}

/** A kafkajs client from the runtime config. */
export function createKafka(config: ClientSettings, log: Logger, socketFactory?: KafkaConfig['socketFactory'], KafkaClass: typeof Kafka = Kafka): Kafka {
  return new KafkaClass(kafkaConfig(config, log, socketFactory));
}

/**
 * The client `mlstream serve` runs on (KAFKA_CLIENT): kafkajs, or librdkafka, which is
 * loaded only when chosen (an optional dependency with a native part). With TLS on kafkajs, a
 * certificate the handshake refuses fails the client's first connect at once (checkTlsHandshake).
 */
export async function createRunnerClient(
  config: ClientSettings & Pick<Config, 'kafkaClient' | 'kafkajsRecordEncoder' | 'kafkajsProduceEncoder' | 'kafkajsSocketReader' | 'deliveryTimeoutMs'>,
  log: Logger,
): Promise<KafkaClient> {
  if (config.kafkaClient === 'librdkafka') return librdkafkaClient(config, log);
  if (config.kafkajsRecordEncoder === 'mlstream' && !installRecordEncoder()) log.warn('kafkajs is not the 2.2 release mlstream\'s record encoder is written for; kafkajs encodes the records itself');
  // After the record encoder, which drops the produce request modules from the cache (installProducePath's doc).
  let KafkaClass = Kafka;
  if (config.kafkajsProduceEncoder === 'mlstream') {
    const fresh = installProducePath();
    if (fresh) KafkaClass = fresh;
    else log.warn('kafkajs is not the 2.2 release mlstream\'s produce request encoder is written for; kafkajs writes its produce requests itself');
  }
  let socketFactory: KafkaConfig['socketFactory'];
  if (config.kafkajsSocketReader === 'mlstream') {
    // Fetch leases let the runner release the responses the frame reader reads (fetch-memory.ts); without them the GC does.
    if (installFrameReader()) {
      socketFactory = framedSocketFactory();
      if (!installFetchLeases()) log.warn('kafkajs is not the 2.2 release mlstream\'s fetch leases are written for; fetch responses are freed by the garbage collector');
    }
    else log.warn('kafkajs is not the 2.2 release mlstream\'s socket reader is written for; kafkajs reads its responses itself');
  }
  // librdkafka reports a refused certificate within its first connect attempt; kafkajs would retry it.
  return kafkajsClient(createKafka(config, log, socketFactory, KafkaClass), () => checkTlsHandshake(config.brokers, config.ssl));
}
