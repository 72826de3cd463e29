import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

/**
 * `mlstream <args>` running under a pseudo-terminal (util-linux `script`) for as long as the
 * test needs: its screen output can be awaited piece by piece, keys typed into it (Ctrl-C
 * goes through the terminal's line discipline and becomes SIGINT, as at a real keyboard).
 */
export interface TerminalSession {
  readonly child: ChildProcess;
  /** Everything shown so far, ANSI colour codes and carriage returns removed. */
  screen(): string;
  /** Resolves with the screen once `pattern` appears on it; rejects after the timeout with the screen. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  type(keys: string): void;
  /** The exit code (script --return passes the command's on); SIGKILL after the timeout. */
  exited(timeoutMs?: number): Promise<number | null>;
}

export function startInTerminal(args: string[], env: Record<string, string> = {}): TerminalSession {
  // `exec`: script runs the command through $SHELL -c (dash when SHELL is unset, as in CI), and
  // dash does not exec a lone command — it would stay the terminal's foreground process, die of
  // Ctrl-C's SIGINT itself and make script report 130 whatever node exited with.
  const command = 'exec ' + [process.execPath, join(repoRoot, 'bin/mlstream.js'), ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--flush', '--command', command, '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, COLUMNS: '160', LINES: '40', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  const waiters = new Set<() => void>();
  const onData = (c: Buffer): void => {
    raw += c.toString();
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const screen = (): string => raw.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
  return {
    child,
    screen,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(screen())) return;
          cleanup();
          resolve(screen());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${pattern} did not appear within ${timeoutMs} ms; the screen:\n${screen().slice(-3000)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    type(keys) {
      child.stdin!.write(keys);
    },
    async exited(timeoutMs = 30_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
