import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CONFIG_ENTRIES, ConfigError, loadConfig, type ConfigKey } from './config.js';
import { validateCommand } from './commands/validate.js';
import { topicsCommand } from './commands/topics.js';
import { PRODUCE_CONFIG_KEYS, produceFlags, produceOptions } from './commands/produce-options.js';
import { trainFlags, trainOptions } from './train/options.js';

const program = new Command('mlstream')
  .description('Serve Spark PipelineModel and ONNX model packages on Kafka streams')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/** Adds every configuration flag, its env variable and default shown in --help. */
function withConfigFlags(cmd: Command, keys: ConfigKey[] = Object.keys(CONFIG_ENTRIES) as ConfigKey[]): Command {
  for (const key of keys) {
    const e = CONFIG_ENTRIES[key];
    const opt = new Option(`--${e.flag} <value>`, `${e.help} [env ${e.env}]`);
    // A repeated --plugin collects its values, like the comma-separated env variable.
    if (key === 'plugins') opt.argParser((v: string, prev?: string) => (prev ? `${prev},${v}` : v));
    if (e.default !== undefined) opt.default(undefined, e.default);
    cmd.addOption(opt);
  }
  return cmd;
}

function flagsOf(cmd: Command): Partial<Record<ConfigKey, string>> {
  const opts = cmd.opts<Record<string, string | undefined>>();
  const flags: Partial<Record<ConfigKey, string>> = {};
  for (const key of Object.keys(CONFIG_ENTRIES) as ConfigKey[]) {
    const camel = CONFIG_ENTRIES[key].flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[camel];
    if (v !== undefined) flags[key] = v;
  }
  return flags;
}

withConfigFlags(
  program
    .command('serve')
    .description('consume records, predict with the model package, write predictions and errors')
    .action(async (_opts, cmd: Command) => {
      const { serve } = await import('./main.js');
      const code = await serve(loadConfig(flagsOf(cmd)));
      // A stopped runtime exits even if a library left a socket or timer behind (a kafkajs retry abandoned at the delivery deadline).
      process.exit(code);
    }),
);

program
  .command('validate')
  .description('check a model package completely, as the runtime would before serving it')
  .argument('<package-dir>', 'the package folder')
  .option('--json', 'print the report as JSON')
  .option('--plugin <module>', 'plugin module adding stage classes (may repeat)', (v: string, prev: string[] = []) => [...prev, v])
  .action(async (dir: string, opts: { json?: boolean; plugin?: string[] }) => {
    process.exitCode = await validateCommand(dir, opts);
  });

withConfigFlags(
  program
    .command('topics')
    .description('list topics, or create the input, predictions and errors topics')
    .argument('[action]', 'list | create', 'list')
    .option('--partitions <n>', 'partitions for created topics', '3')
    .option('--replication <n>', 'replication factor for created topics', '1')
    .action(async (action: string, opts: { partitions: string; replication: string }, cmd: Command) => {
      process.exitCode = await topicsCommand(action, loadConfig(flagsOf(cmd)), Number(opts.partitions), Number(opts.replication));
    }),
  ['brokers', 'clientId', 'inputTopic', 'predictionsTopic', 'errorsTopic', 'ssl', 'sslCaFile', 'sslCertFile', 'sslKeyFile', 'sslRejectUnauthorized', 'saslMechanism', 'saslUsername', 'saslPassword', 'logLevel'],
);

withConfigFlags(
  produceFlags(program.command('produce').description('write a dataset (JSONL, CSV, a folder of them) to a topic, with progress and exact counts')).action(
    async (path: string, opts: Parameters<typeof produceOptions>[0], cmd: Command) => {
      const config = loadConfig(flagsOf(cmd));
      const { produceCommand } = await import('./commands/produce.js');
      process.exitCode = await produceCommand(path, produceOptions(opts, config.inputTopic), config);
    },
  ),
  PRODUCE_CONFIG_KEYS,
);

withConfigFlags(
  trainFlags(program.command('train').description('learn a model from a labelled topic and write it as package versions that serve')).action(
    async (opts: Parameters<typeof trainOptions>[0] & { groupId?: string }, cmd: Command) => {
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
    },
  ),
  [...PRODUCE_CONFIG_KEYS, 'groupId', 'modelsDir', 'plugins', 'httpPort', 'logLevel', 'sessionTimeoutMs', 'maxWaitTimeInMs'],
);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof ConfigError) {
    process.stderr.write(`mlstream: configuration error: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
