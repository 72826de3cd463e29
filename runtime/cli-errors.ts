import { connect } from 'node:net';
import { CommanderError } from 'commander';
import { ConfigError } from './config.js';

/**
 * One error style for every `mlstream` command: a single line on stderr saying what failed,
 * the likely cause and the fix, and an exit code from the documented list below. The stack
 * trace is printed only with `--verbose`, because a person at a terminal needs the fix, not
 * the library's call chain. docs/operations.md lists the same codes.
 */
export const ExitCodes = {
  /** Everything asked for was done. */
  OK: 0,
  /** The command ran and failed: Kafka unreachable, a package refused, records not acknowledged. */
  FAILED: 1,
  /** The command line or the configuration is wrong; nothing was attempted. */
  USAGE: 2,
  /** Stopped by Ctrl-C before the work was done (produce). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** How long a command waits for a TCP connection to a bootstrap broker before saying Kafka is unreachable. */
export const KAFKA_CONNECT_TIMEOUT_MS = 3000;

/** A failure a person can act on: what failed, why it probably did, what to do. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly what: string,
    readonly likelyCause: string | undefined,
    readonly fix: string | undefined,
    readonly exitCode: ExitCode = ExitCodes.FAILED,
    options?: { cause?: unknown },
  ) {
    super([what, likelyCause, fix].filter(Boolean).join(' — '), options);
  }
}

const KAFKA_FIX = 'start it (bash init.sh) or point --bootstrap-server / KAFKA_BOOTSTRAP_SERVER at a running broker';

/** The CliError a thrown value stands for; anything unrecognised keeps its own message. */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof ConfigError) return new CliError(`configuration error: ${e.message}`, undefined, 'see --help for the setting', ExitCodes.USAGE, { cause: e });
  const err = e as NodeJS.ErrnoException & { port?: number; address?: string };
  if (err?.code === 'EADDRINUSE') {
    return new CliError(`HTTP port ${err.port} is already in use`, 'another mlstream (or another server) listens there', 'stop it, or choose another port with --http-port / HTTP_PORT', ExitCodes.FAILED, { cause: e });
  }
  if (err?.code === 'EACCES' && err.syscall === 'listen') {
    return new CliError(`not allowed to listen on HTTP port ${err.port}`, 'ports below 1024 need privileges', 'choose a port above 1024 with --http-port', ExitCodes.FAILED, { cause: e });
  }
  if (err?.name?.startsWith('KafkaJS')) {
    return new CliError(`Kafka refused or failed the request: ${err.message}`, undefined, undefined, ExitCodes.FAILED, { cause: e });
  }
  return new CliError(err?.message ?? String(e), undefined, undefined, ExitCodes.FAILED, { cause: e });
}

/** The line a person sees, and the stack when they asked for it. */
export function formatCliError(command: string, e: CliError, verbose: boolean): string {
  const head = `mlstream${command ? ` ${command}` : ''}: ${e.message}\n`;
  if (!verbose) return head;
  const cause = e.cause instanceof Error ? e.cause : e;
  return `${head}${cause.stack ?? ''}\n`;
}

/** Prints the error in the one style and returns its exit code. Commander's own usage errors were printed already. */
export function reportError(command: string, e: unknown, verbose: boolean): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
  const error = toCliError(e);
  process.stderr.write(formatCliError(command, error, verbose));
  return error.exitCode;
}

/**
 * Resolves once a TCP connection to any bootstrap broker opens; otherwise throws a CliError
 * within `timeoutMs`. kafkajs would retry for half a minute before saying the same.
 */
export async function probeKafka(brokers: readonly string[], timeoutMs = KAFKA_CONNECT_TIMEOUT_MS): Promise<void> {
  const failures = await Promise.all(brokers.map((b) => tryConnect(b, timeoutMs)));
  if (failures.some((f) => f === undefined)) return;
  const reasons = [...new Set(failures)].join('; ');
  throw new CliError(`cannot reach Kafka at ${brokers.join(',')} (${reasons})`, 'no broker is running there', KAFKA_FIX);
}

/** undefined when the broker accepted the connection, else why not. */
function tryConnect(broker: string, timeoutMs: number): Promise<string | undefined> {
  const at = broker.lastIndexOf(':');
  const host = broker.slice(0, at);
  const port = Number(broker.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? `unknown host ${host}` : e.message));
  });
}
