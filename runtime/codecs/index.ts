import { ErrorCodes } from '../errors.js';
import type { ErrorBody } from '../engine/messages.js';
import { decodeTfExample } from './tf-example.js';

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
  return { record: parsed as Record<string, unknown> };
};

/** Input formats a package may declare in config.json `input_format`. */
export const decoders: Record<'json' | 'tf-example', Decoder> = {
  json: decodeJson,
  'tf-example': decodeTfExample,
};
