import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLine, latencyMs, prettyLine, type ConsumedRecord } from '../../runtime/consume/render.js';

const at = Date.UTC(2026, 11, 3, 18, 30, 5, 120);
const record = (value: unknown, headers: Record<string, string> = {}, key: string | null = 'k1'): ConsumedRecord => ({
  topic: 'predictions',
  partition: 1,
  offset: '42',
  timestamp: String(at),
  key,
  headers,
  value: typeof value === 'string' ? value : JSON.stringify(value),
});

test('a prediction shows its label, the probability of that label, model@version and the latency from the source timestamp header', () => {
  const r = record({ id: 'a1', prediction: 'spam', probability: { ham: 0.25, spam: 0.75 }, model: 'spam-text', version: 'abc' }, { 'mlstream-model': 'spam-text@abc', 'mlstream-source-timestamp': String(at - 37) });
  assert.equal(prettyLine(r, { color: false }), '18:30:05.120 predictions/1@42  id=a1  spam 0.750  spam-text@abc  37 ms\n');
  assert.equal(latencyMs(r), 37);
});

test('an error record shows its code and message; a record without the header has no latency', () => {
  const r = { ...record({ id: 7, error: { code: 'SCHEMA_VIOLATION', message: '/text must be string' } }), topic: 'errors' };
  assert.equal(prettyLine(r, { color: false }), '18:30:05.120 errors/1@42  id=7  SCHEMA_VIOLATION /text must be string\n');
  assert.equal(latencyMs(r), undefined);
});

test('any other topic shows the key and the value as text', () => {
  assert.equal(prettyLine(record('plain text', {}, 'key-9'), { color: false }), '18:30:05.120 predictions/1@42  key=key-9  plain text\n');
});

test('--json writes the whole record with the value parsed when it is JSON', () => {
  const line = jsonLine(record({ id: 'a1', prediction: 1 }, { h: 'v' }));
  assert.deepEqual(JSON.parse(line), { topic: 'predictions', partition: 1, offset: '42', timestamp: at, key: 'k1', headers: { h: 'v' }, value: { id: 'a1', prediction: 1 } });
  assert.ok(line.endsWith('}\n'));
});
