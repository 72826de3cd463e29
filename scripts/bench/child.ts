import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * A process under measurement: `mlstream serve` or a baseline pipe, started as a user
 * would start it, watched through its JSON log lines and /proc.
 */
export interface Child {
  readonly pid: number;
  readonly startedAt: number;
  readonly logs: string[];
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<void>;
  /** SIGTERM, then the exit code (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
  /** The exit code once exited and its output read (-1 when killed by a signal); null before. */
  exitCode(): number | null;
}

const LOG_KEEP = 400;

/** Starts `command args` (node by default) with the environment added to this one's. */
export function startChild(args: string[], env: Record<string, string>, cwd: string, command = process.execPath): Child {
  const child: ChildProcess = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot start ${args.join(' ')}`);
  const startedAt = Date.now();
  const logs: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const onLine = (line: string): void => {
    logs.push(line);
    if (logs.length > LOG_KEEP) logs.shift();
    for (const l of listeners) l(line);
  };
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
  let closedWith: number | null = null;
  // 'close' rather than 'exit': it comes after the last output line has been read.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, signal) => {
      closedWith = code ?? (signal ? -1 : null);
      process.off('exit', killOnExit);
      resolve(code);
    }),
  );
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  return {
    pid: child.pid,
    startedAt,
    logs,
    exited,
    exitCode: () => closedWith,
    waitForLog(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (line: string): boolean => {
          try {
            if (!match(JSON.parse(line) as Record<string, unknown>)) return false;
          } catch {
            return false;
          }
          cleanup();
          resolve();
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching log line within ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`));
        }, timeoutMs);
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`process exited (${code}) first:\n${logs.slice(-20).join('\n')}`));
        };
        const listener = (line: string): void => void check(line);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.off('exit', onExit);
        };
        if (logs.some(check)) return;
        listeners.add(listener);
        child.once('exit', onExit);
      });
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      return child.exitCode;
    },
  };
}

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of /proc's CPU times (asked once). */
function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/**
 * CPU time of the whole machine so far, in seconds summed over its cores (/proc/stat's `cpu`
 * line): busy is everything but idle and iowait, so it counts every process — the one under
 * test, the local broker, the benchmark itself, the kernel's network stack and anything else
 * running.
 */
export function machineCpu(): { busyS: number; totalS: number } {
  const ticks = ticksPerSecond();
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as [number, number, number, number, number, number, number, number];
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busyS: (total - idle - iowait) / ticks, totalS: total / ticks };
}

/** User + system CPU seconds the process has used so far (/proc/<pid>/stat). */
export function cpuSeconds(pid: number, statFile = `/proc/${pid}/stat`): number {
  const stat = readFileSync(statFile, 'utf8');
  // The command name may hold spaces or parentheses; fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** CPU seconds (user + system) of each of the process's threads now, by OS thread id. */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), cpuSeconds(Number(tid), `/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** OS thread ids of the runtime's pool workers, from its 'pool worker ready' log lines. */
export function poolThreadIds(logs: readonly string[]): Set<number> {
  const ids = new Set<number>();
  for (const line of logs) {
    if (!line.includes('pool worker ready')) continue;
    try {
      const tid = (JSON.parse(line) as { osThreadId?: unknown }).osThreadId;
      if (typeof tid === 'number') ids.add(tid);
    } catch {
      // not a log line of the runtime's
    }
  }
  return ids;
}

/** Peak resident set (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(kb) / 1024;
}
