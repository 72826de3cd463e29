import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackage, type PackageConfig } from '../../../runtime/packages/package.js';
import { predict, sparkRegistry } from '../../conformance/runner.js';
import type { Outcome } from '../../conformance/types.js';
import { sparkFixturesDir } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/packages.js';

/**
 * The model-class tests load the real exports in `../shared/fixtures/spark-catalogue/` the
 * way the runtime does: a copy with a config.json, through loadPackage, records validated
 * and run in micro-batches, outputs read by the code that writes prediction messages.
 */

export const catalogueDir = join(sparkFixturesDir, '../spark-catalogue');

/** A `skip` option for node:test: a reason when the catalogue fixtures are absent. */
export const skipWithoutCatalogue: string | false = existsSync(catalogueDir)
  ? false
  : `Spark catalogue fixtures not found at ${catalogueDir} (they live in ../shared/ beside the repo; set MLSTREAM_SPARK_FIXTURES to point at its spark/ sibling)`;

export function catalogueFixture(name: string): string {
  return join(catalogueDir, name);
}

export interface LoadedFixture {
  run(records: readonly Record<string, unknown>[]): Promise<Outcome[]>;
  close(): Promise<void>;
}

/**
 * Copies a catalogue folder (without sample/) beside a config.json and loads it as a
 * package; `edit` may change the copy first (a variant such as another saved param).
 */
export async function loadCatalogueFixture(name: string, config: PackageConfig, edit?: (dir: string) => void): Promise<LoadedFixture> {
  const dir = tempDir('mlstream-models-');
  cpSync(catalogueFixture(name), dir, { recursive: true, filter: (src) => !src.includes('/sample') });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  try {
    edit?.(dir);
    const model = await loadPackage(dir, sparkRegistry(), name);
    return {
      run: (records) => predict(model, records),
      async close() {
        await model.pipeline.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
