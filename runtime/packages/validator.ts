import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { InputField, InputType } from '../pipeline/input-schema.js';

const INT32 = { minimum: -2147483648, maximum: 2147483647 };
const FLOAT32_MAX = 3.4028234663852886e38;

function typeSchema(type: InputType): Record<string, unknown> {
  switch (type) {
    case 'STRING':
      return { type: 'string' };
    case 'INTEGER':
      return { type: 'integer', ...INT32 };
    case 'LONG':
      return { type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
    case 'FLOAT':
      return { type: 'number', minimum: -FLOAT32_MAX, maximum: FLOAT32_MAX };
    case 'DOUBLE':
      return { type: 'number' };
    case 'BOOLEAN':
      return { type: 'boolean' };
    case 'ARRAY<STRING>':
      return { type: 'array', items: { type: 'string' } };
    case 'VECTOR':
      return {
        oneOf: [
          { type: 'array', items: { type: 'number' } },
          {
            type: 'object',
            required: ['size', 'indices', 'values'],
            additionalProperties: false,
            properties: {
              size: { type: 'integer', minimum: 0, maximum: 2147483647 },
              indices: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 2147483647 } },
              values: { type: 'array', items: { type: 'number' } },
            },
          },
        ],
      };
  }
}

/** The JSON Schema a record must satisfy for a package: its input columns plus `id`. */
export function recordSchema(fields: readonly InputField[]): Record<string, unknown> {
  const properties: Record<string, unknown> = { id: { type: ['string', 'integer'] } };
  for (const f of fields) {
    const s = typeSchema(f.type);
    properties[f.name] = f.nullable ? { anyOf: [s, { type: 'null' }] } : s;
  }
  return {
    type: 'object',
    required: ['id', ...fields.map((f) => f.name)],
    properties,
  };
}

/**
 * Compiled once per package version, with an Ajv instance of its own so that a replaced
 * version's compiled code is freed with it (a shared instance caches every schema forever).
 *
 * `validateSchema: false` here and on every Ajv instance the runtime makes for its own
 * schemas (schemas/*.json, and `recordSchema`, which this module builds): checking a schema
 * against JSON Schema's meta-schema compiles the meta-schema first, 15–40 ms per instance,
 * and those instances were most of the start-up time before the first prediction. The
 * schemas are the runtime's, not a user's, so test/unit/runtime-schemas.test.ts checks
 * each one against the meta-schema once instead.
 */
export function compileRecordValidator(fields: readonly InputField[]): ValidateFunction {
  return new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, validateSchema: false }).compile(recordSchema(fields));
}

export type ValidationDetail = Pick<ErrorObject, 'instancePath' | 'keyword' | 'message' | 'params'>;

export function describeErrors(errors: readonly ErrorObject[] | null | undefined): { message: string; details: ValidationDetail[] } {
  const details = (errors ?? []).map(({ instancePath, keyword, message, params }) => ({ instancePath, keyword, message, params }));
  const message = details.map((d) => `${d.instancePath || '/'} ${d.message ?? d.keyword}`).join('; ') || 'record does not match the input schema';
  return { message, details };
}
