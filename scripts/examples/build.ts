/**
 * `npm run build:examples [-- --out <dir>]`: trains the example packages from their data
 * and writes them to model-packages/ (or <dir>). Same data, same bytes: no randomness,
 * a fixed save timestamp, names derived from content.
 *
 * Packages are built in a hidden folder beside their destination and moved into place
 * one by one, so a runtime watching the folder never sees a half-written package.
 */
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildIrisPackage } from './iris.js';
import { buildSpamPackages } from './spam-text.js';
import { percent } from './files.js';

export const EXAMPLE_PACKAGES = ['spam-text', 'spam-text-onnx', 'iris-onnx'] as const;

export async function buildExamples(outDir: string, log: (line: string) => void = () => {}): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const staging = await mkdtemp(join(outDir, '.build-'));
  try {
    const spam = await buildSpamPackages(staging);
    log(`spam-text, spam-text-onnx: ${spam.train} training / ${spam.heldOut} held-out mails; held-out accuracy ${percent(spam.sparkAccuracy)} (Spark layout), ${percent(spam.onnxAccuracy)} (ONNX)`);
    const iris = await buildIrisPackage(staging);
    log(`iris-onnx: ${iris.train} training / ${iris.heldOut} held-out flowers; held-out accuracy ${percent(iris.accuracy)}`);
    for (const name of EXAMPLE_PACKAGES) {
      await rm(join(outDir, name), { recursive: true, force: true });
      await rename(join(staging, name), join(outDir, name));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'model-packages' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: npm run build:examples [-- --out <dir>]\n  trains the example packages and writes them to <dir> (default model-packages/)\n');
  } else {
    const out = resolve(values.out);
    await buildExamples(out, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(`wrote ${EXAMPLE_PACKAGES.join(', ')} to ${out}\n`);
  }
}
