import { spawnSync } from 'node:child_process';
import { repoRoot } from './fixtures.js';
import { mlstreamBin } from './built-bin.js';

/** Runs the `mlstream` command line as a user would; returns exit code and output. */
export function mlstream(args: string[], env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [mlstreamBin(), ...args], {
    encoding: 'utf8',
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
