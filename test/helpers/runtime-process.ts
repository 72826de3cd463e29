import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './fixtures.js';
import { createInterface } from 'node:readline';
import { mlstreamBin } from './built-bin.js';

export interface RuntimeProcess {
  readonly child: ChildProcess;
  readonly logs: string[];
  /** Resolves with the first log line matching the predicate (rejects on exit or timeout). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code once the process has ended and every line it wrote is in `logs`. */
  exited(): Promise<number | null>;
  /** SIGTERM, then the exit code (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<number | null>;
}

/** Runs `mlstream serve` as a user would, as a separate process. */
/**
 * The Kafka client the spawned runtimes use: the default (kafkajs) unless the suite runs with
 * KAFKA_CLIENT=librdkafka (docs/reliability.md). A few tests read a client's own log lines
 * or request-shaped fault injection; they say which client they expect.
 */
export const RUNTIME_KAFKA_CLIENT: 'kafkajs' | 'librdkafka' = process.env.KAFKA_CLIENT === 'librdkafka' ? 'librdkafka' : 'kafkajs';

export function startRuntime(env: Record<string, string>, args: string[] = []): RuntimeProcess {
  return startMlstream(['serve', ...args], env);
}

/** Runs any `mlstream` command (e.g. `train`) as a separate process whose JSON log lines can be awaited. */
export function startMlstream(args: string[], env: Record<string, string>): RuntimeProcess {
  const child = spawn(process.execPath, [mlstreamBin(), ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '500', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const onLine = (line: string): void => {
    logs.push(line);
    for (const l of listeners) l(line);
  };
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
  // 'close', not 'exit': 'exit' can come before the last lines written to stdout/stderr are
  // read, and a test that reads `logs` once the process ended (its 'runner stopped' line, a
  // fatal line) must see them all. 'close' follows the end of both streams.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const killOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  return {
    child,
    logs,
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (line: string): boolean => {
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (match(parsed)) {
              cleanup();
              resolve(parsed);
              return true;
            }
          } catch {
            // not a JSON log line (e.g. a Node warning)
          }
          return false;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching log line within ${timeoutMs} ms; logs:\n${logs.slice(-30).join('\n')}`));
        }, timeoutMs);
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`runtime exited (${code}) before the log line; logs:\n${logs.slice(-30).join('\n')}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off('close', onExit);
        };
        const listener = (line: string): void => void check(line);
        for (const line of logs) if (check(line)) return;
        listeners.add(listener);
        child.once('close', onExit);
      });
    },
    exited: () => exited,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      process.off('exit', killOnExit);
      return code;
    },
  };
}
