import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { mlstreamBin } from '../helpers/built-bin.js';
import { repoRoot } from '../helpers/fixtures.js';

/** The files of this repository a module pulls in when it is loaded (packages left out), parsed by esbuild. */
async function localModulesOf(file: string): Promise<string[]> {
  const result = await build({ entryPoints: [file], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', absWorkingDir: repoRoot });
  return Object.keys(result.metafile.inputs);
}

/**
 * `npm run build` bundles each entry point of the compiled runtime (scripts/bundle.mjs): a
 * start loads one module of the runtime's own instead of some 120, with its dependencies'
 * CommonJS files inlined. An entry that still imports a sibling module means the bundling
 * step failed and the build fell back to the slower-starting unbundled output.
 */
test('the built entry points (the CLI, the pool worker, the ONNX worker) import no other module of dist/', async () => {
  mlstreamBin();
  for (const entry of ['dist/runtime/cli.js', 'dist/runtime/engine/pool-worker.js', 'dist/runtime/stages/onnx-worker.js']) {
    assert.deepEqual(await localModulesOf(join(repoRoot, entry)), [entry]);
  }
});

test('the check sees the modules an unbundled entry imports', async () => {
  const modules = await localModulesOf(join(repoRoot, 'runtime/engine/pool-worker.ts'));
  assert.ok(modules.includes('runtime/engine/pool-protocol.ts'), modules.join(', '));
});
