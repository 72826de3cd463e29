import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { ValidateFunction } from 'ajv';
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

/** What a built entry imports from packages as it loads (static imports), parsed by esbuild. */
async function staticPackageImports(file: string): Promise<string[]> {
  const result = await build({ entryPoints: [file], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent', absWorkingDir: repoRoot });
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports);
  return [...new Set(imports.filter((i) => i.kind === 'import-statement' && !isBuiltin(i.path)).map((i) => i.path))].sort();
}

test('a start imports only kafkajs among packages: the rest is inlined, and what a run may never need (pg, prom-client, onnxruntime, …) loads on first use', async () => {
  mlstreamBin();
  assert.deepEqual(await staticPackageImports(join(repoRoot, 'dist/runtime/cli.js')), ['kafkajs']);
  assert.deepEqual(await staticPackageImports(join(repoRoot, 'dist/runtime/engine/pool-worker.js')), []);
  assert.ok((await staticPackageImports(join(repoRoot, 'runtime/http/metrics.ts'))).includes('prom-client'), 'the check sees a static import');
});

test('the check sees the modules an unbundled entry imports', async () => {
  const modules = await localModulesOf(join(repoRoot, 'runtime/engine/pool-worker.ts'));
  assert.ok(modules.includes('runtime/engine/pool-protocol.ts'), modules.join(', '));
});

/** Every variant of an object one member away: each member removed, or set to a value of another type, and one member added. */
function neighbours(value: Record<string, unknown>): unknown[] {
  const others = [null, 5, -1, 'x', '', [], ['x'], {}, { x: 1 }, true];
  const out: unknown[] = [value, { ...value, unexpected_member: 1 }, [], 'text', null];
  for (const key of Object.keys(value)) {
    const { [key]: _removed, ...rest } = value;
    out.push(rest);
    for (const other of others) out.push({ ...value, [key]: other });
  }
  return out;
}

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

test('the built package-schema validators (Ajv standalone code) give the source validators\' verdicts and errors', async () => {
  mlstreamBin();
  const source = await import('../../runtime/packages/schema-validators.js');
  const built = (await import(pathToFileURL(join(repoRoot, 'dist/runtime/packages/schema-validators.js')).href)) as typeof source;
  assert.ok(!('packageSchemas' in built), 'dist/ holds the generated module, not the compiled source');
  // Folders holding a config.json at their top: the shipped packages, and any flat package a user added
  // (a versioned one, as `mlstream train -m model-packages` writes, keeps its config.json per version).
  const packages = readdirSync(join(repoRoot, 'model-packages')).filter((p) => existsSync(join(repoRoot, 'model-packages', p, 'config.json')));
  assert.ok(['iris-onnx', 'spam-text', 'spam-text-onnx'].every((p) => packages.includes(p)), packages.join(' '));
  const configs = packages.map((p) => readJson(join(repoRoot, 'model-packages', p, 'config.json')));
  const serving = [{ input_topic: 'in', output_topics: { predictions: 'p', errors: 'e' }, version_policy: { pin: 2 }, rollout: { canary: { version: 3, percent: 10 }, shadow: { version: 4, topic: 'shadow' } } }];
  const metadata = packages.filter((p) => existsSync(join(repoRoot, 'model-packages', p, 'metadata/part-00000'))).map((p) => readJson(join(repoRoot, 'model-packages', p, 'metadata/part-00000')));
  assert.ok(source.validateServing(serving[0]), JSON.stringify(source.validateServing.errors));
  let invalid = 0;
  const checks: [keyof typeof source.VALIDATORS, Record<string, unknown>[]][] = [
    ['validateConfig', configs],
    ['validateServing', serving],
    ['validateMetadata', metadata],
  ];
  for (const [name, samples] of checks) {
    assert.ok(samples.length > 0, name);
    const fromSource: ValidateFunction = source[name];
    const fromBuild: ValidateFunction = built[name];
    for (const sample of samples.flatMap(neighbours)) {
      const expected = fromSource(sample);
      assert.equal(fromBuild(sample), expected, `${name}(${JSON.stringify(sample)})`);
      assert.deepEqual(fromBuild.errors, fromSource.errors, `${name}(${JSON.stringify(sample)}) errors`);
      if (!expected) invalid++;
    }
  }
  assert.ok(invalid > 50, `invalid samples compared: ${invalid}`);
});
