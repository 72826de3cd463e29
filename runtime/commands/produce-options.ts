import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ProduceOptions } from './produce.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

function topicName(v: string): string {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(v)) throw new InvalidArgumentError('is not a valid Kafka topic name');
  return v;
}

/** The produce command's own flags; bad values end in a usage message and exit code 2. */
export function produceFlags(cmd: Command): Command {
  return cmd
    .argument('<path>', 'a .jsonl / .ndjson / .csv file, a folder of them (read in path order), or - for standard input (JSON lines unless --input-type csv)')
    .option('-t, --topic <name>', 'topic to write to (default: the input topic, env KAFKA_INCOMING_MSG_TOPIC, else messages)', topicName)
    .addOption(new Option('--format <format>', 'message value: JSON text, or a serialized tf.train.Example').choices(['json', 'tf-example']).default('json'))
    .addOption(new Option('--input-type <type>', 'read every file as this type (default: by extension)').choices(['jsonl', 'csv']))
    .option('-P, --package <dir>', 'model package whose input_schema types CSV cells and tf.train.Example features')
    .option('--cells-as-text', 'send CSV cells as text without --package, even those that look like numbers')
    .option('--key <field>', 'message key from this field (default: the record id)')
    .option('--id <field>', 'record id from this field')
    .option('--no-auto-id', 'leave records without an id as they are (default: id "<file>:<line or row>", "#<pass>" added on repeats)')
    .option('--rate <msgs/s>', 'pace to at most this many messages per second', positiveNumber)
    .option('-n, --limit <n>', 'stop after n records (lines past them are not read)', positiveInt)
    .option('--repeat <n>', 'read the input n times', positiveInt, 1)
    .option('--batch-size <n>', 'most messages per produce request (and at most 900 KiB)', positiveInt, 2000)
    .option('--no-progress', 'no progress bar (terminal) or progress lines (otherwise) on stderr')
    .option('--log-level <level>', 'kafkajs diagnostics on stderr: silent | error | warn | debug', 'silent');
}

interface RawFlags {
  topic?: string;
  format: 'json' | 'tf-example';
  inputType?: 'jsonl' | 'csv';
  package?: string;
  key?: string;
  id?: string;
  autoId: boolean;
  rate?: number;
  limit?: number;
  repeat: number;
  batchSize: number;
  progress: boolean;
  logLevel: string;
  cellsAsText?: boolean;
}

export function produceOptions(raw: RawFlags, inputTopic: string): ProduceOptions {
  return { ...raw, topic: raw.topic ?? inputTopic };
}
