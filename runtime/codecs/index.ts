import { ErrorCodes } from '../errors.js';
import type { ErrorBody } from '../engine/messages.js';
import type { InputField } from '../pipeline/input-schema.js';
import { topLevelIdNumberText } from './json-id.js';
import { tfExampleDecoder } from './tf-example.js';

export type Decoded = { record: Record<string, unknown> } | { error: ErrorBody };

/** Turns one message value into a record, or says why it cannot. */
export type Decoder = (value: Buffer) => Decoded;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const decodeJson: Decoder = (value) => {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { error: { code: ErrorCodes.DECODE_ERROR, message: 'message value is not valid UTF-8' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { error: { code: ErrorCodes.DECODE_ERROR, message: `message value is not JSON: ${(e as Error).message}` } };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: { code: ErrorCodes.SCHEMA_VIOLATION, message: 'a record must be a JSON object' } };
  }
  const record = parsed as Record<string, unknown>;
  // Past 2^53 a double cannot hold the integer: keep the digits the producer wrote (json-id.ts).
  if (typeof record.id === 'number' && Number.isInteger(record.id) && !Number.isSafeInteger(record.id)) {
    const original = topLevelIdNumberText(text);
    if (original !== undefined) record.id = original;
  }
  return { record };
};

export type InputFormat = 'json' | 'tf-example';

const tfExampleDecoders = new WeakMap<readonly InputField[], Decoder>();

/**
 * The decoder for a package's `input_format`. A tf-example decoder depends on the
 * package's columns, so it is built once per loaded version (keyed by its field list).
 */
export function decoderFor(format: InputFormat | undefined, fields: readonly InputField[]): Decoder {
  if (format !== 'tf-example') return decodeJson;
  let decoder = tfExampleDecoders.get(fields);
  if (!decoder) {
    decoder = tfExampleDecoder(fields);
    tfExampleDecoders.set(fields, decoder);
  }
  return decoder;
}
