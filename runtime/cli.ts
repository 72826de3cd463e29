import { Command, InvalidArgumentError, Option } from 'commander';
// Imported, not read beside this file: the build (dist/) compiles it in as it does the schemas.
import packageJson from '../package.json' with { type: 'json' };
import { ExitCodes, probeKafka, reportError } from './cli-errors.js';
import { loadConfig } from './config.js';
import { CONNECTION_KEYS, flagsOf, withConfigFlags } from './commands/config-flags.js';
import { produceFlags, produceOptions } from './commands/produce-options.js';
import { trainFlags, trainOptions } from './train/options.js';

/**
 * The `mlstream` command line: parses flags, builds the configuration and hands over to one
 * command module, imported only when its command runs (the stage registry and ONNX runtime
 * take seconds to load, which `topics` or an error message should not wait for). Every
 * failure ends here, printed in the one style of cli-errors.ts.
 */

const { version } = packageJson;

const program = new Command('mlstream')
  .description('Serve Spark PipelineModel and ONNX model packages on Kafka streams')
  .version(version, '-V, --version', 'print the mlstream version')
  .option('--verbose', 'print the stack trace with an error')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .addHelpText('after', `
Exit codes: 0 done, 1 failed (Kafka unreachable, package refused, records not acknowledged), 2 usage or configuration error, 130 interrupted.

Examples:
  $ mlstream serve -b localhost:9092 -m ./model-packages -p 8080
  $ mlstream consume            # predictions and errors as they arrive (Ctrl-C stops)
  $ mlstream validate model-packages/spam-text`);

let commandName = '';
const named = (name: string): void => void (commandName = name);

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;

withConfigFlags(
  program
    .command('serve')
    .description('consume records, predict with the model package, write predictions and errors')
    .addHelpText('after', examples('mlstream serve', 'mlstream serve -b kafka:9092 -m /models -p 8080 --log-level debug', 'KAFKA_SSL=true mlstream serve --ssl-ca-file ca.pem'))
    .action(async (_opts, cmd: Command) => {
      named('serve');
      const config = loadConfig(flagsOf(cmd));
      const { serve } = await import('./main.js');
      // Kafka is probed once the configuration and plugins are known good: a bad plugin is exit 2 whatever the broker does.
      const code = await serve(config, () => probeKafka(config.brokers));
      // A stopped runtime exits even if a library left a socket or timer behind (a kafkajs retry abandoned at the delivery deadline).
      process.exit(code);
    }),
);

program
  .command('validate')
  .description('check a model package completely, as the runtime would before serving it')
  .argument('<package-dir>', 'the package folder')
  .option('--json', 'print the report as JSON')
  .option('--init', 'write a config.json skeleton (input columns and types from the first stages, labels from the label indexer) and check the package with it')
  .option('--force', 'with --init: replace an existing config.json')
  .option('--plugin <module>', 'plugin module adding stage classes (may repeat)', (v: string, prev: string[] = []) => [...prev, v])
  .addHelpText('after', examples('mlstream validate model-packages/iris', 'mlstream validate --init ./exported-spark-model', 'mlstream validate ./pkg --json --plugin ./my-stages.js'))
  .action(async (dir: string, opts: { json?: boolean; init?: boolean; force?: boolean; plugin?: string[] }) => {
    named('validate');
    if (opts.init) {
      const { initCommand } = await import('./commands/validate-init.js');
      const written = await initCommand(dir, { force: opts.force ?? false, plugin: opts.plugin ?? [] });
      if (written !== ExitCodes.OK) return void (process.exitCode = written);
    }
    const { validateCommand } = await import('./commands/validate.js');
    process.exitCode = await validateCommand(dir, opts);
  });

withConfigFlags(
  program
    .command('topics')
    .description('list topics, or create the input, predictions and errors topics')
    .argument('[action]', 'list | create', 'list')
    .option('--partitions <n>', 'partitions for created topics', '3')
    .option('--replication <n>', 'replication factor for created topics', '1')
    .addHelpText('after', examples('mlstream topics', 'mlstream topics create --partitions 6 -b kafka:9092'))
    .action(async (action: string, opts: { partitions: string; replication: string }, cmd: Command) => {
      named('topics');
      const config = loadConfig(flagsOf(cmd));
      await probeKafka(config.brokers);
      const { topicsCommand } = await import('./commands/topics.js');
      process.exitCode = await topicsCommand(action, config, Number(opts.partitions), Number(opts.replication));
    }),
  [...CONNECTION_KEYS, 'inputTopic', 'predictionsTopic', 'errorsTopic', 'logLevel'],
);

withConfigFlags(
  produceFlags(program.command('produce').description('write a dataset (JSONL, CSV, a folder of them, or stdin) to a topic, with progress and exact counts'))
    .addHelpText('after', examples('mlstream produce data/emails.jsonl', 'mlstream produce iris.csv -P model-packages/iris -n 100 --rate 20', 'cat records.jsonl | mlstream produce - -t messages'))
    .action(async (path: string, opts: Parameters<typeof produceOptions>[0], cmd: Command) => {
      named('produce');
      const config = loadConfig(flagsOf(cmd));
      const { produceCommand } = await import('./commands/produce.js');
      process.exitCode = await produceCommand(path, produceOptions(opts, config.inputTopic), config);
    }),
  CONNECTION_KEYS,
);

function fromPosition(v: string): 'beginning' | 'end' {
  if (v !== 'beginning' && v !== 'end') throw new InvalidArgumentError('must be beginning or end');
  return v;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

withConfigFlags(
  program
    .command('consume')
    .alias('tail')
    .description('print the records of predictions and errors (or any topic): pretty on a terminal, JSON lines with --json')
    .option('-t, --topic <name>', 'topic to read; may repeat (default: the predictions and errors topics)', (v: string, prev: string[] = []) => [...prev, v])
    .option('-f, --follow', 'keep waiting for new records until Ctrl-C (default: stop at the end the topics had at start)')
    .addOption(new Option('--from <where>', 'start at the beginning or the end of the topics (default: end with --follow, else beginning)').argParser(fromPosition))
    .option('-n, --limit <n>', 'stop after n records', positiveInt)
    .option('--json', 'one JSON object per record (topic, partition, offset, timestamp, key, headers, value)')
    .addHelpText('after', examples('mlstream consume -f', 'mlstream tail -t errors --from beginning -n 20', 'mlstream consume --json | jq .value.prediction'))
    .action(async (opts: { topic?: string[]; follow?: boolean; from?: 'beginning' | 'end'; limit?: number; json?: boolean; logLevel?: string }, cmd: Command) => {
      named('consume');
      const config = loadConfig(flagsOf(cmd));
      const { consumeCommand } = await import('./commands/consume.js');
      const follow = opts.follow ?? false;
      process.exitCode = await consumeCommand(
        {
          topics: opts.topic ?? [config.predictionsTopic, config.errorsTopic],
          follow,
          from: opts.from ?? (follow ? 'end' : 'beginning'),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          json: opts.json ?? false,
          // kafkajs diagnostics would interleave with the records; they go to stderr at warn and above only when asked.
          logLevel: cmd.getOptionValueSource('logLevel') === 'cli' ? config.logLevel : 'silent',
        },
        config,
      );
    }),
  [...CONNECTION_KEYS, 'predictionsTopic', 'errorsTopic', 'logLevel'],
);

withConfigFlags(
  trainFlags(program.command('train').description('learn a model from a labelled topic and write it as package versions that serve'))
    .addHelpText(
      'after',
      examples(
        'mlstream train --input-topic train --label label --text text --algorithm logistic-sgd --name spam -m model-packages',
        'mlstream train --input-topic iris --columns a,b,c,d --algorithm kmeans --k 3 --half-life 5 --name clusters --until-end',
      ),
    )
    .action(async (opts: Parameters<typeof trainOptions>[0] & { groupId?: string }, cmd: Command) => {
      named('train');
      const config = loadConfig(flagsOf(cmd));
      let options: ReturnType<typeof trainOptions>;
      try {
        options = trainOptions(opts, opts.groupId ?? process.env.KAFKA_GROUP_ID);
      } catch (e) {
        if (e instanceof InvalidArgumentError) cmd.error(`error: ${e.message}`);
        throw e;
      }
      const { trainCommand } = await import('./commands/train.js');
      process.exitCode = await trainCommand(options, config);
    }),
  [...CONNECTION_KEYS, 'groupId', 'modelsDir', 'plugins', 'httpPort', 'logLevel', 'sessionTimeoutMs', 'maxWaitTimeInMs'],
);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(commandName, e, program.opts<{ verbose?: boolean }>().verbose ?? false);
  // A failed command may leave a watcher or a socket open (serve's package store, a half-open kafkajs connection).
  process.exit();
}
