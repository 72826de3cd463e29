/**
 * Runs a local broker until told to stop (see scripts/broker/README.md).
 *
 *   tsx scripts/broker/run.ts [--brokers N] [--port P] [--topics a,b,c]
 *                             [--partitions N] [--replication N] [--until-signal]
 *
 * stdout: first line is the bootstrap address (host:port,...), then one reply
 * line per command. Without --until-signal, stdin lines are broker commands
 * (e.g. "down 2") and EOF stops the broker; with --until-signal stdin is
 * ignored and only SIGTERM/SIGINT stop it - use that when running in the
 * background, where stdin is often /dev/null (immediate EOF).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startLocalBroker } from './index.js';

const usage =
  'usage: tsx scripts/broker/run.ts [--brokers N] [--port P] [--topics a,b,c] ' +
  '[--partitions N] [--replication N] [--until-signal]';

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`invalid --${name}: ${value}\n${usage}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        brokers: { type: 'string' },
        port: { type: 'string' },
        topics: { type: 'string' },
        partitions: { type: 'string' },
        replication: { type: 'string' },
        'until-signal': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }

  const partitions = intOption(values.partitions, 'partitions', 1);
  const replication = intOption(values.replication, 'replication', 1);
  const topics = (values.topics ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((name) => ({ name, partitions, replication }));

  const broker = await startLocalBroker({
    brokers: intOption(values.brokers, 'brokers', 1),
    port: values.port === undefined ? undefined : intOption(values.port, 'port', 0),
    topics,
  });
  console.log(broker.bootstrap);
  console.error(
    `[broker] pid ${broker.pid}, bootstrap ${broker.bootstrap}` +
      (topics.length ? `, topics ${topics.map((t) => t.name).join(',')}` : '') +
      (values['until-signal'] ? ' - stop with SIGTERM/SIGINT' : ' - commands on stdin, EOF stops'),
  );

  // startLocalBroker() does not keep the event loop alive while idle; this does.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.error(`[broker] ${why}, stopping`);
    await broker.stop();
    clearInterval(keepAlive);
    process.exit(0);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => void shutdown(sig));
  }

  if (values['until-signal']) return;

  // Commands are answered in order: chain them so replies print in order too.
  let queue = Promise.resolve();
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    queue = queue.then(() =>
      broker.command(line).then(
        (reply) => console.log(`OK ${reply}`.trimEnd()),
        (err: Error) => console.log(`ERR ${err.message.replace(/^broker command ".*?" failed: /, '')}`),
      ),
    );
  });
  rl.on('close', () => void queue.then(() => shutdown('stdin closed')));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
