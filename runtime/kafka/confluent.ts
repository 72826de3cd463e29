import { createRequire } from 'node:module';

type ConfluentModule = typeof import('@confluentinc/kafka-javascript');

/** How to get the librdkafka client on this machine, quoted by every error that says it is missing. */
export const CONFLUENT_BUILD_HINT = 'install it with npm ci (an optional dependency) and build its native part with `bash scripts/kafka-native/build.sh`';

/**
 * @confluentinc/kafka-javascript, the librdkafka-based client, loaded only when asked for.
 * It is an optional dependency whose install script is denied (it downloads a prebuilt
 * binary); scripts/kafka-native/build.sh compiles its native part from the source the
 * package ships. A missing package or binary is an error saying how to get it.
 */
export async function loadConfluent(): Promise<ConfluentModule> {
  try {
    // CommonJS package: require gives the whole module object (KafkaJS included).
    return createRequire(import.meta.url)('@confluentinc/kafka-javascript') as ConfluentModule;
  } catch (e) {
    throw new Error(`the librdkafka client (@confluentinc/kafka-javascript) cannot be loaded: ${(e as Error).message.split('\n')[0]}; ${CONFLUENT_BUILD_HINT}`);
  }
}
