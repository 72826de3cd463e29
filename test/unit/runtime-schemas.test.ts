import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { compileRecordValidator, recordSchema } from '../../runtime/packages/validator.js';
import { parseInputSchema } from '../../runtime/pipeline/input-schema.js';

// The runtime compiles its own schemas with `validateSchema: false` (start-up time; see
// runtime/packages/validator.ts), so this is where they are checked against the meta-schema.
const dir = join(import.meta.dirname, '../../schemas');
const files = readdirSync(dir).filter((f) => f.endsWith('.schema.json'));

test('every schema the runtime ships is valid against the JSON Schema meta-schema', () => {
  assert.ok(files.length >= 7, `schemas found: ${files.join(', ')}`);
  const ajv = new Ajv({ strict: false });
  for (const file of files) {
    const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as object;
    assert.equal(ajv.validateSchema(schema), true, `${file}: ${ajv.errorsText(ajv.errors)}`);
  }
});

test('the meta-schema check would catch a broken schema (so the test above can fail)', () => {
  const ajv = new Ajv({ strict: false });
  assert.equal(ajv.validateSchema({ type: 'object', required: 'id' }), false);
  assert.equal(ajv.validateSchema({ type: 'nonsense' }), false);
});

test('record schemas built from input schemas are valid, in strict mode too', () => {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true });
  const inputs: Record<string, string>[] = [{ text: 'STRING' }, { a: 'DOUBLE', b: 'INTEGER', c: 'STRING' }, { x: 'DOUBLE?', y: 'integer?', z: 'string' }, { v: 'VECTOR', w: 'ARRAY<STRING>?', f: 'FLOAT', l: 'LONG', b: 'BOOLEAN' }, {}];
  const sample: Record<string, unknown> = { STRING: 's', INTEGER: 1, LONG: 2, FLOAT: 1.5, DOUBLE: 2.5, BOOLEAN: true, 'ARRAY<STRING>': ['a'], VECTOR: [1, 2] };
  for (const input of inputs) {
    const fields = parseInputSchema(input);
    const schema = recordSchema(fields);
    assert.equal(ajv.validateSchema(schema), true, `${JSON.stringify(input)}: ${ajv.errorsText(ajv.errors)}`);
    // And the validator compiled without the meta-check still accepts and refuses as the schema says.
    const validate = compileRecordValidator(fields);
    const good = Object.fromEntries([['id', 'r1'], ...fields.map((f) => [f.name, sample[f.type]])]);
    assert.equal(validate(good), true, JSON.stringify(validate.errors));
    assert.equal(validate({ ...good, id: true }), false);
    for (const f of fields) assert.equal(validate({ ...good, [f.name]: { wrong: 1 } }), false, `${f.name} accepted an object`);
  }
});
