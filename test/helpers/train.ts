import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runCli } from './cli-process.js';

/** Helpers for the `mlstream train` tests: producing a dataset file and reading what the trainer wrote. */

/** `mlstream produce <file> --topic <topic>` as a user runs it; throws with its output on failure. */
export async function produceFile(bootstrap: string, file: string, topic: string, extra: string[] = []): Promise<void> {
  const r = await runCli(['produce', file, '--topic', topic, '--no-progress', '--bootstrap-server', bootstrap, ...extra]);
  if (r.code !== 0) throw new Error(`mlstream produce exited ${r.code}: ${r.stderr}`);
}

/** The version numbers under MODELS_DIR/<name>/, ascending. */
export function versionsOf(packageDir: string): number[] {
  return readdirSync(packageDir)
    .filter((n) => /^[1-9][0-9]*$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Every file under a folder, by relative path, with its bytes. */
export function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** JSON log lines of a finished CLI run. */
export function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
