import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

/**
 * The `mlstream` command as a user runs it: bin/mlstream.js, which runs the compiled dist/.
 * `npm test` builds before any test; a test file run on its own after an edit would run
 * stale output, so the first call in a test process rebuilds when a source under runtime/
 * or schemas/, or the build script or bundler, is newer than the build.
 */
export function mlstreamBin(): string {
  if (!checked) {
    checked = true;
    if (newest(join(repoRoot, 'runtime'), join(repoRoot, 'schemas'), join(repoRoot, 'scripts/build.sh'), join(repoRoot, 'scripts/bundle.mjs')) > builtAt()) {
      const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
    }
  }
  return join(repoRoot, 'bin/mlstream.js');
}

let checked = false;

function builtAt(): number {
  try {
    return statSync(join(repoRoot, 'dist/runtime/cli.js')).mtimeMs;
  } catch {
    return -1;
  }
}

function newest(...paths: string[]): number {
  let latest = 0;
  for (const path of paths) {
    const stat = statSync(path);
    if (stat.isFile()) {
      latest = Math.max(latest, stat.mtimeMs);
      continue;
    }
    for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return latest;
}
