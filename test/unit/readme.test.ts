import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';

/*
 * The README's promises: a Quick start that fits one screen, every command in it run by a
 * test (this file says which, and checks that test still runs it), and links that lead
 * somewhere.
 */

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));

/** Each Quick start command, the file that runs it, and the call there that does. */
const RUN_BY: Record<string, { file: string; call: string }> = {
  'bash init.sh': { file: 'test/e2e/init.test.ts', call: "spawnSync('bash', ['init.sh'" },
  'npx tsx playground/example.ts': { file: 'test/e2e/playground.test.ts', call: "join(repoRoot, 'playground/example.ts')" },
  'npx mlstream consume -f': { file: 'test/e2e/cli-terminal.test.ts', call: "startInTerminal(['consume', '-f'" },
  'npm test': { file: '.ci/run', call: 'npm test' },
};

test('the Quick start fits one screen (60 lines at most)', () => {
  const lines = quickStart.trimEnd().split('\n').length;
  assert.ok(lines <= 60, `${lines} lines`);
});

test('every command in the Quick start is run by a test', () => {
  const commands = [...quickStart.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  assert.deepEqual(commands.sort(), Object.keys(RUN_BY).sort());
  for (const [command, { file, call }] of Object.entries(RUN_BY)) {
    assert.ok(readFileSync(join(repoRoot, file), 'utf8').includes(call), `${file} runs \`${command}\` (looked for ${call})`);
  }
});

test('`npx mlstream` in a clone runs this repository\'s CLI (the bin of package.json, nothing fetched)', () => {
  const r = spawnSync('npx', ['--no-install', 'mlstream', '--version'], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
});

test('the Quick start says how to see predictions and where the dashboard is', () => {
  assert.match(quickStart, /mlstream consume/);
  assert.match(quickStart, /dashboard is at <http:\/\/localhost:8080\/>/);
  const init = readFileSync(join(repoRoot, 'init.sh'), 'utf8');
  assert.match(init, /HTTP_PORT="\$\{HTTP_PORT:-8080\}"/, 'init.sh serves HTTP on 8080 by default');
  assert.match(init, /say "See predictions as they arrive:  npx mlstream consume -f -b \$bootstrap"/, "init.sh's next steps show consume");
  assert.match(init, /say " {2}Dashboard: +http:\/\/localhost:\$\{HTTP_PORT\}\/ /, "init.sh's next steps show the dashboard");
});

test('every relative link in README.md and docs/ leads to a file in the repo', () => {
  const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const page of pages) {
    const text = readFileSync(join(repoRoot, page), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const path = resolve(dirname(join(repoRoot, page)), target!);
      assert.ok(existsSync(path), `${page} links to ${target}, which does not exist`);
    }
  }
});
