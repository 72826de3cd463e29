/**
 * Local Kafka-protocol broker for tests and for machines without Docker: a
 * librdkafka mock cluster run by scripts/broker/launcher.c (built on demand by
 * scripts/broker/build.sh into .cache/broker/). See scripts/broker/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalBrokerOptions {
  /** Number of brokers in the cluster, ids 1..N (default 1). */
  brokers?: number;
  /** Topics created at startup; partitions default to 1, replication to 1. */
  topics?: Array<{ name: string; partitions?: number; replication?: number }>;
  /** Fixed port for broker 1 on 127.0.0.1 (others get free ports). */
  port?: number;
}

export interface LocalBroker {
  /** Comma-separated host:port list, ready for a client's `brokers` setting. */
  bootstrap: string;
  /** The same addresses as an array, broker 1 first. */
  brokers: string[];
  /** PID of the launcher process. */
  pid: number;
  /**
   * Sends one command line (see README) and resolves with the reply text after
   * "OK " (e.g. "pong" for "ping"); rejects with the reason on "ERR".
   */
  command(line: string): Promise<string>;
  /** Closes the launcher's stdin and waits for it to exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const buildScript = path.join(here, 'build.sh');
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_TAIL_LINES = 40;

let built: Promise<string> | undefined;

/**
 * Runs build.sh (a no-op taking a few ms when everything is up to date) once
 * per process and returns the launcher binary path. MLSTREAM_BROKER_BIN
 * overrides the binary and skips the build.
 */
export function ensureBrokerBuilt(): Promise<string> {
  const override = process.env.MLSTREAM_BROKER_BIN;
  if (override) return Promise.resolve(override);
  built ??= new Promise<string>((resolve, reject) => {
    // stderr is inherited so the (rare, ~30 s) first build shows its progress.
    const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const bin = out.trim().split('\n').pop() ?? '';
      if (code === 0 && bin) resolve(bin);
      else reject(new Error(`scripts/broker/build.sh failed (${signal ?? `exit ${code}`})`));
    });
  }).catch((err: unknown) => {
    built = undefined; // allow a retry after e.g. a transient npm failure
    throw err;
  });
  return built;
}

// Every launcher still running is SIGKILLed when this process exits, even if
// a test forgot stop() or threw before reaching it. (The launcher also exits by
// itself on stdin EOF and has PR_SET_PDEATHSIG, which cover a SIGKILLed node.)
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Keeps (or stops keeping) the event loop alive for this child and its pipes. */
function setRef(child: ChildProcess, on: boolean): void {
  // Pipes to a child are net.Socket instances, which the stream types hide.
  const handles = [child, child.stdin, child.stdout, child.stderr] as unknown as Array<Partial<Socket> | null>;
  for (const h of handles) {
    if (on) h?.ref?.();
    else h?.unref?.();
  }
}

interface Pending {
  line: string;
  resolve: (reply: string) => void;
  reject: (err: Error) => void;
}

export async function startLocalBroker(opts: LocalBrokerOptions = {}): Promise<LocalBroker> {
  const bin = await ensureBrokerBuilt();
  const brokerCount = opts.brokers ?? 1;
  if (!Number.isInteger(brokerCount) || brokerCount < 1) throw new Error(`invalid brokers: ${brokerCount}`);

  const args = ['--brokers', String(brokerCount), '--die-with-parent'];
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  for (const t of opts.topics ?? []) {
    if (!t.name || /[\s:]/.test(t.name)) throw new Error(`invalid topic name: ${JSON.stringify(t.name)}`);
    args.push(`${t.name}:${t.partitions ?? 1}:${t.replication ?? 1}`);
  }

  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);

  const stderrTail: string[] = [];
  const echoStderr = Boolean(process.env.MLSTREAM_BROKER_DEBUG);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (echoStderr) process.stderr.write(chunk);
    stderrTail.push(...chunk.split('\n').filter(Boolean));
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
  });
  const withStderr = (msg: string): Error =>
    new Error(stderrTail.length ? `${msg}\n--- broker stderr ---\n${stderrTail.join('\n')}` : msg);

  // A write after the launcher died raises EPIPE here; the exit handler below
  // already rejects whatever was pending.
  child.stdin.on('error', () => {});

  const pending: Pending[] = [];
  let onFirstLine: ((line: string) => void) | undefined;
  let exitReason: string | undefined;
  let stopping: Promise<void> | undefined;
  // 'close' rather than 'exit': it fires only after stdout is drained, so a
  // reply written just before exiting is still delivered.
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      exitReason = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      for (const p of pending.splice(0)) p.reject(withStderr(`broker exited (${exitReason}) before answering "${p.line}"`));
      resolve();
    });
  });

  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (onFirstLine) {
        const cb = onFirstLine;
        onFirstLine = undefined;
        cb(line);
        continue;
      }
      const p = pending.shift();
      if (!p) continue; // unsolicited output: nothing is waiting for it
      if (line.startsWith('OK')) p.resolve(line.slice(3));
      else p.reject(new Error(`broker command "${p.line}" failed: ${line.replace(/^ERR /, '')}`));
      if (pending.length === 0 && !stopping) setRef(child, false);
    }
  });

  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(withStderr(`broker did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    onFirstLine = (line) => {
      clearTimeout(timer);
      if (line.startsWith('BOOTSTRAP ')) resolve(line.slice('BOOTSTRAP '.length).trim());
      else reject(withStderr(`broker failed to start: ${line.replace(/^ERR /, '')}`));
    };
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(withStderr(`broker exited during startup (${exitReason})`));
    });
  });
  if (child.pid === undefined) throw new Error('broker has no pid');
  const pid = child.pid;

  // An idle broker must not keep the process alive: a test that forgets stop()
  // then ends normally and the exit hook kills the broker, instead of hanging.
  setRef(child, false);

  return {
    bootstrap,
    brokers: bootstrap.split(','),
    pid,
    command(line: string): Promise<string> {
      const cmd = line.trim();
      if (!cmd || cmd.includes('\n')) return Promise.reject(new Error(`invalid broker command: ${JSON.stringify(line)}`));
      if (exitReason !== undefined || stopping) {
        return Promise.reject(new Error(`broker is ${exitReason ? `gone (${exitReason})` : 'stopping'}`));
      }
      return new Promise<string>((resolve, reject) => {
        pending.push({ line: cmd, resolve, reject });
        setRef(child, true);
        child.stdin.write(`${cmd}\n`);
      });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (exitReason !== undefined) return;
        setRef(child, true);
        child.stdin.end(); // EOF: the launcher destroys the cluster and exits 0
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // exited in the meantime
          }
          await exited;
        }
      })();
      return stopping;
    },
  };
}
