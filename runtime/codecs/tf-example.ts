import { ErrorCodes } from '../errors.js';
import type { Decoder } from './index.js';

/** Serialized tf.train.Example records: not decoded yet (see the tf.Example issue). */
export const decodeTfExample: Decoder = () => ({
  error: { code: ErrorCodes.DECODE_ERROR, message: 'tf-example input is not supported by this build' },
});
