import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { IRIS_PACKAGE, irisRecords, toKafkaMessages } from '../helpers/iris.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { irisRig } from '../helpers/served-iris.js';

/**
 * Hostile packages beside the served one in MODELS_DIR, through `mlstream serve` with a
 * stream: a stage uid resolving to the package itself (which used to load forever and keep
 * the runtime from consuming), one climbing out to a system file, and a parquet bomb. Each
 * is refused with its reason, /status names files relative to MODELS_DIR, and iris serves.
 */
const skip = skipWithoutFixtures;

function setStageUids(dir: string, uids: string[]): void {
  const file = join(dir, 'metadata/part-00000');
  const meta = JSON.parse(readFileSync(file, 'utf8')) as { paramMap: { stageUids: string[] } };
  meta.paramMap.stageUids = uids;
  writeFileSync(file, JSON.stringify(meta));
}

function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    })
      .on('error', reject)
      .end();
  });
}

test('hostile packages in MODELS_DIR are refused with their reasons while the selected package serves the stream', { skip, timeout: 180_000 }, async (t) => {
  const rig = await irisRig(t, 'hostile-packages');
  const iris = join(rig.modelsDir, IRIS_PACKAGE);
  const copy = (name: string): string => {
    const dir = join(rig.modelsDir, name);
    cpSync(iris, dir, { recursive: true });
    return dir;
  };
  setStageUids(copy('self-loop'), ['StringIndexer_1f33fec51e26', 'x/../..', 'NaiveBayes_3958ea2b5b1f']);
  const outside = join(rig.modelsDir, '..', 'outside');
  mkdirSync(join(outside, 'metadata'), { recursive: true });
  symlinkSync('/etc/passwd', join(outside, 'metadata/part-00000'));
  setStageUids(copy('climber'), ['x/../../../../outside', 'VectorAssembler_cba7b3ba0664', 'NaiveBayes_3958ea2b5b1f']);
  const bombData = join(copy('bomb'), 'stages/2_NaiveBayes_3958ea2b5b1f/data');
  const part = readdirSync(bombData).find((n) => n.endsWith('.parquet'))!;
  const bomb = parquetWriteBuffer({ columnData: [{ name: 'pi', data: new BigInt64Array(30_000_000), type: 'INT64' }], rowGroupSize: 30_000_000, pageSize: 1 << 30 });
  writeFileSync(join(bombData, part), new Uint8Array(bomb));

  const records = irisRecords(30);
  await produceAll(rig.boot, 'messages', toKafkaMessages(records));
  const runtime = rig.start({ HTTP_PORT: '0' });
  const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
  const seen = await collectUntil(rig.boot, ['predictions'], (s) => s.length >= records.length, 60_000);
  assert.equal(seen.length, records.length, 'every record predicted by iris');

  const status = (await getJson(port, '/status')) as { refusals: { name: string; reason: string }[] };
  const reasons = new Map(status.refusals.map((r) => [r.name, r.reason]));
  assert.match(reasons.get('self-loop') ?? '', /^self-loop\/metadata: stage 1's uid "x\/..\/.." is not a plain name/);
  assert.match(reasons.get('climber') ?? '', /^climber\/metadata: stage 0's uid .* is not a plain name/);
  assert.match(reasons.get('bomb') ?? '', new RegExp(`^bomb/stages/2_NaiveBayes_3958ea2b5b1f/data/${part}: parquet footer claims 30000000`));
  const text = JSON.stringify(status);
  assert.doesNotMatch(text, /root:|\/tmp\//, 'no system file contents and no absolute paths');
  assert.equal(await runtime.stop(), 0);
});
