import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './fixtures.js';

export const IRIS_CONFIG = {
  input_schema: { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' },
  output_labels: { '0': 'setosa', '1': 'versicolor', '2': 'virginica' },
};

export function tempDir(prefix = 'mlstream-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Copies a Spark fixture into `dir` and writes its config.json (a fixture is never changed in place). */
export function writeFixturePackage(dir: string, fixtureName: string, config: object): string {
  mkdirSync(dir, { recursive: true });
  cpSync(fixture(fixtureName), dir, { recursive: true, filter: (src) => !src.includes('/sample') });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** An iris record with an id, for the jpmml33-iris-nb package. */
export function irisRecord(id: string, i: number): Record<string, unknown> {
  return { id, Sepal_Length: 4.5 + (i % 30) / 10, Sepal_Width: 3 + (i % 7) / 10, Petal_Length: 1 + (i % 50) / 10, Petal_Width: 0.1 + (i % 24) / 10 };
}

/** Appends a stage of `className` (a plugin's) to a package's pipeline, as Spark would have saved it. */
export function appendStage(packageDir: string, className: string, uid: string, paramMap: Record<string, unknown>): void {
  const metaFile = join(packageDir, 'metadata', 'part-00000');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { paramMap: { stageUids: string[] } };
  const stageMeta = join(packageDir, 'stages', `${meta.paramMap.stageUids.length}_${uid}`, 'metadata');
  mkdirSync(stageMeta, { recursive: true });
  writeFileSync(join(stageMeta, 'part-00000'), JSON.stringify({ class: className, timestamp: 0, sparkVersion: '3.3.0', uid, paramMap, defaultParamMap: {} }));
  meta.paramMap.stageUids.push(uid);
  writeFileSync(metaFile, JSON.stringify(meta));
}
