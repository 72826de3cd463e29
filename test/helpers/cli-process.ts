import { spawn, spawnSync } from 'node:child_process';
import { repoRoot } from './fixtures.js';
import { mlstreamBin } from './built-bin.js';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const bin = mlstreamBin();

/** Runs `mlstream <args>` with pipes (so neither stdout nor stderr is a terminal). */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** util-linux `script`, which runs a command under a pseudo-terminal; absent on some systems. */
export const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * Runs `mlstream <args>` under a pseudo-terminal (util-linux `script`), as a user at a
 * terminal would: stdout and stderr are both the terminal, so `output` is what they saw.
 */
export function runCliInTerminal(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  // `exec`: script runs the command through $SHELL -c (dash when SHELL is unset, as in CI), and
  // dash does not exec a lone command — it would stay the terminal's foreground process, die of
  // Ctrl-C's SIGINT itself and make script report 130 whatever node exited with.
  const command = 'exec ' + [process.execPath, bin, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['--quiet', '--return', '--flush', '--command', command, '/dev/null'], {
      cwd: repoRoot,
      env: { ...process.env, COLUMNS: '100', LINES: '30' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
