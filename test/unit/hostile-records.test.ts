import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { processBatch } from '../../runtime/engine/batch.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import { loadPackage } from '../../runtime/packages/package.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { HOSTILE_INPUT_SCHEMA, HOSTILE_MAX_MESSAGE_BYTES, HOSTILE_OUTPUT_LABELS, hostileStream, type TestRecord } from '../helpers/hostile-records.js';
import { IRIS_FIXTURE } from '../helpers/iris.js';
import { tempDir, writeFixturePackage } from '../helpers/packages.js';

const ERROR_RAW_MAX_BYTES = 4096;

test('10 000 generated hostile records through the batch engine: each gets exactly one answer — the expected error code with a reason, or Spark\'s prediction — and Object.prototype is untouched', { skip: skipWithoutFixtures, timeout: 120_000 }, async (t) => {
  const work = tempDir('mlstream-hostile-');
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const dir = writeFixturePackage(join(work, 'iris'), IRIS_FIXTURE, { input_schema: HOSTILE_INPUT_SCHEMA, output_labels: HOSTILE_OUTPUT_LABELS });
  const model = await loadPackage(dir, builtinRegistry(), 'iris');

  const prototypeBefore = snapshotPrototypes();
  const stream = hostileStream(10_000);
  assert.ok(stream.length >= 12_000);
  const byKey = new Map<string, Array<{ topic: 'predictions' | 'errors'; out: OutputMessage }>>();
  for (let start = 0; start < stream.length; start += 1000) {
    const inputs: InputMessage[] = stream.slice(start, start + 1000).map((r, i) => ({
      topic: 'messages',
      partition: 0,
      offset: String(start + i),
      key: Buffer.from(r.key),
      value: r.value,
    }));
    const result = await processBatch(inputs, model, { maxMessageBytes: HOSTILE_MAX_MESSAGE_BYTES, errorRawMaxBytes: ERROR_RAW_MAX_BYTES });
    // What a sink or the dashboard does with every prediction record must not throw either.
    assert.doesNotThrow(() => JSON.stringify(result.records));
    for (const [topic, outs] of [['predictions', result.predictions], ['errors', result.errors]] as const) {
      for (const out of outs) {
        const k = out.key!.toString();
        byKey.set(k, [...(byKey.get(k) ?? []), { topic, out }]);
      }
    }
  }

  const tally = new Map<string, number>();
  stream.forEach((r, offset) => {
    tally.set(r.kind, (tally.get(r.kind) ?? 0) + 1);
    const answers = byKey.get(r.key) ?? [];
    assert.equal(answers.length, 1, `${r.key} (${r.kind}) got ${answers.length} answers`);
    checkAnswer(r, offset, answers[0]!);
  });
  assert.deepEqual(snapshotPrototypes(), prototypeBefore, 'no built-in prototype gained or changed a property');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  t.diagnostic([...tally].map(([k, n]) => `${n} × ${k}`).join('; '));
});

function checkAnswer(r: TestRecord, offset: number, { topic, out }: { topic: string; out: OutputMessage }): void {
  const body = JSON.parse(out.value) as Record<string, unknown>;
  assert.equal(out.headers['mlstream-source'], `messages/0/${offset}`);
  assert.equal(out.headers['mlstream-model']?.startsWith('iris@'), true);
  if (r.expect === 'prediction') {
    assert.equal(topic, 'predictions', `${r.key} (${r.kind}) went to errors: ${out.value.slice(0, 300)}`);
    assert.equal(body.prediction, r.label, `${r.key} (${r.kind})`);
    return;
  }
  assert.equal(topic, 'errors', `${r.key} (${r.kind}) was predicted`);
  const error = body.error as { code: string; message: string };
  assert.equal(error.code, r.expect, `${r.key} (${r.kind}): ${out.value.slice(0, 300)}`);
  assert.ok(typeof error.message === 'string' && error.message.length > 0, `${r.key}: a reason`);
  assert.deepEqual(body.source, { topic: 'messages', partition: 0, offset: String(offset) });
  if (r.value && r.value.length > ERROR_RAW_MAX_BYTES) {
    assert.equal(body.rawTruncated, true);
    assert.equal(body.rawBytes, r.value.length);
  }
  assert.ok(Buffer.byteLength(out.value) < ERROR_RAW_MAX_BYTES * 4 + 4096, `${r.key}: the error record stays small (${Buffer.byteLength(out.value)} bytes)`);
}

/** Own property names and values of the prototypes a polluting key would reach. */
function snapshotPrototypes(): Record<string, Array<[string, unknown]>> {
  const protos = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype, Number: Number.prototype };
  return Object.fromEntries(
    Object.entries(protos).map(([name, proto]) => [name, Reflect.ownKeys(proto).map((k) => {
        const d = Object.getOwnPropertyDescriptor(proto, k)!;
        return [String(k), d.get ?? d.set ?? d.value] as [string, unknown];
      })]),
  );
}
