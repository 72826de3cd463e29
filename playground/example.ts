/**
 * The first thing to run after `bash init.sh`: sends a few e-mail texts (and one invalid
 * record) to the input topic, waits for the runtime's answer to each on `predictions` or
 * `errors`, and prints them. Written for the shipped spam-text package.
 *
 *   npx tsx playground/example.ts [--bootstrap-server host:port] [--timeout 60] [--help]
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

const USAGE = `usage: npx tsx playground/example.ts [options]

Sends a few messages to the input topic, waits for the matching predictions and
errors (matched by id) and prints them. Exits 0 when every message was answered.

options:
  -b, --bootstrap-server <host:port>  Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVER or localhost:9092)
  --input-topic <name>                default: $KAFKA_INCOMING_MSG_TOPIC or messages
  --timeout <seconds>                 how long to wait for all answers (default 60)
  -h, --help                          this text

example:
  npx tsx playground/example.ts -b localhost:9092 --timeout 30
`;

const { values } = parseArgs({
  options: {
    'bootstrap-server': { type: 'string', short: 'b' },
    // The flag's earlier name, kept working for scripts written against it; not advertised.
    bootstrap: { type: 'string' },
    'input-topic': { type: 'string' },
    timeout: { type: 'string', default: '60' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const bootstrap = values['bootstrap-server'] ?? values.bootstrap ?? process.env.KAFKA_BOOTSTRAP_SERVER ?? 'localhost:9092';
const inputTopic = values['input-topic'] ?? process.env.KAFKA_INCOMING_MSG_TOPIC ?? 'messages';
const outputTopics = [process.env.KAFKA_PREDICTIONS_TOPIC ?? 'predictions', process.env.KAFKA_ERRORS_TOPIC ?? 'errors'];
const timeoutMs = Number(values.timeout) * 1000;
if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) fail(`--timeout must be a positive number of seconds, got "${values.timeout}"`);

const run = `ex${Date.now().toString(36)}`;
const samples: Array<{ id: string; record: Record<string, unknown>; note: string }> = [
  { note: 'a colleague', text: 'Hi Tom, are we still meeting for lunch tomorrow? I can bring the slides for the project review.' },
  { note: 'a prize', text: 'Congratulations! You have been selected to receive a FREE vacation. Click here now to claim your prize!!!' },
  { note: 'a mailing list', text: 'The build is failing on the main branch since yesterday, can someone look at the test logs before the release?' },
  { note: 'an offer', text: 'Lose weight fast with our amazing new pills. Order now and save 50%, limited time offer, money back guarantee!' },
].map((s, i) => ({ id: `${run}-${i + 1}`, record: { id: `${run}-${i + 1}`, text: s.text }, note: s.note }));
samples.push({ id: `${run}-bad`, record: { id: `${run}-bad`, text: 42 }, note: 'invalid: text is a number' });

interface Answer {
  readonly topic: string;
  readonly body: Record<string, unknown>;
}

function fail(message: string): never {
  process.stderr.write(`example: ${message}\n`);
  process.exit(1);
}

const short = (s: string, n = 76): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function describe(answer: Answer): string {
  const b = answer.body;
  if (answer.topic === outputTopics[0]) {
    const probability = b.probability as Record<string, number> | undefined;
    const odds = probability ? `  (${Object.entries(probability).map(([label, p]) => `${label} ${p.toFixed(3)}`).join(', ')})` : '';
    return `prediction: ${String(b.prediction)}${odds}  [${b.model}@${b.version}]`;
  }
  const error = b.error as { code: string; message: string };
  return `error: ${error.code} — ${error.message}`;
}

async function main(): Promise<void> {
  const kafka = new Kafka({ clientId: 'mlstream-example', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (e) {
    fail(`cannot reach Kafka at ${bootstrap} (${(e as Error).message}). Is it up? Start it with: bash init.sh`);
  }
  // Answers are read from the current end of the output topics, not their whole history.
  const start = await Promise.all(outputTopics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))).catch((e: Error) =>
    fail(`cannot read the topics ${outputTopics.join(', ')} (${e.message}). Create them with: npx mlstream topics create`),
  );
  await admin.disconnect();

  const pending = new Map(samples.map((s) => [s.id, s]));
  const answers = new Map<string, Answer>();
  const consumer: Consumer = kafka.consumer({ groupId: `${run}-reader`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 500 });
  let allAnswered!: () => void;
  const answered = new Promise<void>((resolve) => (allAnswered = resolve));
  await consumer.connect();
  await consumer.subscribe({ topics: outputTopics });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const body = JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown> | null;
      const id = body && typeof body.id === 'string' ? body.id : message.key?.toString();
      if (!id || !pending.has(id)) return;
      pending.delete(id);
      answers.set(id, { topic, body: body ?? {} });
      if (pending.size === 0) allAnswered();
    },
  });
  for (const { topic, offsets } of start) for (const p of offsets) consumer.seek({ topic, partition: p.partition, offset: p.offset });

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: inputTopic, acks: -1, messages: samples.map((s) => ({ key: s.id, value: JSON.stringify(s.record) })) });
  await producer.disconnect();
  process.stdout.write(`sent ${samples.length} messages to "${inputTopic}" at ${bootstrap}; waiting for their answers on ${outputTopics.join(' and ')}…\n\n`);

  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
  const late = await Promise.race([answered.then(() => false), timedOut]);
  clearTimeout(timer);
  await consumer.disconnect();

  for (const s of samples) {
    const a = answers.get(s.id);
    process.stdout.write(`${s.id}  ${s.note}\n  sent:   ${short(JSON.stringify(s.record.text))}\n  ${a ? describe(a) : 'no answer'}\n\n`);
  }
  if (late) {
    fail(
      `timed out after ${timeoutMs / 1000} s: no answer for ${[...pending.keys()].join(', ')}. ` +
        'Is the runtime running and serving a model (bash init.sh; logs in .mlstream/runtime.log)?',
    );
  }
  process.stdout.write(`all ${samples.length} answered in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const misfits = samples.filter((s) => s.record.text !== 42 && answers.get(s.id)?.topic !== outputTopics[0]);
  if (misfits.length) process.stdout.write('note: valid texts went to errors; is the runtime serving the spam-text package (MODEL_PIPELINE=spam-text)?\n');
}

main().then(
  () => process.exit(0),
  (e: Error) => fail(e.message),
);
