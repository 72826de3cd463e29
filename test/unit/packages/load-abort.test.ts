import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PackageError } from '../../../runtime/packages/errors.js';
import { loadPackage } from '../../../runtime/packages/package.js';
import { StageRegistry } from '../../../runtime/pipeline/registry.js';
import type { Stage } from '../../../runtime/pipeline/stage.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { skipWithoutFixtures } from '../../helpers/fixtures.js';
import { IRIS_CONFIG, tempDir, writeFixturePackage } from '../../helpers/packages.js';

/** loadPackage's AbortSignal: the store's time limit per package relies on it stopping the load between stages. */
const skip = skipWithoutFixtures;
const work = tempDir('mlstream-load-abort-');
after(() => rmSync(work, { recursive: true, force: true }));

const ASSEMBLER = 'org.apache.spark.ml.feature.VectorAssembler';

/** The built-in registry, with VectorAssembler's factory firing `controller` once its stage is built and recording disposals. */
function abortingRegistry(controller: AbortController, disposed: string[]): StageRegistry {
  const builtin = builtinRegistry();
  const registry = new StageRegistry();
  for (const className of builtin.known()) {
    const factory = builtin.get(className)!;
    registry.register(
      className,
      className !== ASSEMBLER
        ? factory
        : async (ctx) => {
            const stage = await factory(ctx);
            controller.abort(new Error('time limit of 50 ms reached'));
            return Object.create(stage, { dispose: { value: () => void disposed.push(stage.uid) } }) as Stage;
          },
    );
  }
  return registry;
}

test('a load whose signal fires between stages stops at the next stage, refuses with the reason and releases the stages it built', { skip }, async () => {
  const dir = writeFixturePackage(join(work, 'iris'), 'jpmml33-iris-nb', IRIS_CONFIG);
  const controller = new AbortController();
  const disposed: string[] = [];
  await assert.rejects(
    loadPackage(dir, abortingRegistry(controller, disposed), 'iris', controller.signal),
    (e: unknown) => e instanceof PackageError && /2_NaiveBayes_3958ea2b5b1f.*: loading stopped: time limit of 50 ms reached/.test(e.message),
  );
  assert.deepEqual(disposed, ['VectorAssembler_cba7b3ba0664']);
});

test('a signal that has already fired refuses before any file is read', { skip }, async () => {
  const dir = writeFixturePackage(join(work, 'iris-pre'), 'jpmml33-iris-nb', IRIS_CONFIG);
  await assert.rejects(
    loadPackage(dir, builtinRegistry(), 'iris', AbortSignal.abort(new Error('shutting down'))),
    (e: unknown) => e instanceof PackageError && /loading stopped/.test(e.message),
  );
});

test('without a signal the same package loads', { skip }, async () => {
  const dir = writeFixturePackage(join(work, 'iris-ok'), 'jpmml33-iris-nb', IRIS_CONFIG);
  const model = await loadPackage(dir, builtinRegistry(), 'iris');
  assert.equal(model.pipeline.stages.length, 3);
  await model.pipeline.dispose();
});
