import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** JSON with sorted keys, two-space indent and a final newline: stable bytes for stable input. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(sortKeys(value), null, 2)}\n`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** The package's README: its name and the line saying where its data came from and how well it does. */
export async function writeReadme(dir: string, line: string): Promise<void> {
  await writeFile(join(dir, 'README.md'), `# ${basename(dir)}\n\n${line}\n`);
}

export const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;
