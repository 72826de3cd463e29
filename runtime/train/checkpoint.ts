import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncPath } from './versions.js';
import type { PrequentialSnapshot } from './prequential.js';

/**
 * The trainer's checkpoint: the model's exact bits, the label index, the fitted scaler,
 * the prequential window, and the next offset to learn per partition — everything a
 * restarted trainer needs to continue as if it had never stopped. Written to a temporary
 * file, fsynced, renamed over the previous checkpoint, and the folder fsynced, before the
 * consumer commits its offsets: a crash leaves either the old or the new checkpoint,
 * never a torn one, and the checkpoint's offsets are never behind the committed ones.
 *
 * Float64Arrays are stored as base64 of their bytes (JSON numbers would lose -0 and
 * would be slow for large models).
 */

export interface Checkpoint {
  readonly format: 1;
  /** The options that shape the model; resuming with others is refused. */
  readonly settings: string;
  /** partition → next offset to learn (text, as Kafka offsets are 64-bit). */
  readonly offsets: Record<string, string>;
  readonly records: number;
  readonly trained: number;
  readonly errors: Record<string, number>;
  /** Records consumed when the last version was written. */
  readonly versionAt: number;
  readonly labels: string[];
  readonly scaler?: { readonly mean: string; readonly std: string };
  readonly model?: { readonly dim: number; readonly params: string; readonly clusterWeights: string };
  readonly prequential: PrequentialSnapshot;
}

export const encodeFloats = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

export function decodeFloats(s: string): Float64Array {
  const bytes = Buffer.from(s, 'base64');
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as Checkpoint;
  if (parsed.format !== 1) throw new Error(`${file}: unknown checkpoint format ${String(parsed.format)}`);
  return parsed;
}

export async function writeCheckpoint(file: string, c: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.checkpoint.tmp-${process.pid}`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(c));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  await fsyncPath(dirname(file));
}
