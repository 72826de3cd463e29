import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The fused text stage's JSON token loop compiled from C (text-loop.c), which `npm run build`
 * writes to dist/native/text-loop.node when a C compiler is there. The TypeScript loop stays:
 * it is what runs without the addon (no compiler, `MLSTREAM_TEXT_LOOP=js`), and the tests hold
 * the two to the same numbers.
 */
export interface TextLoopAddon {
  /**
   * A loop's context: settings [lower, runs, legacy, minLength, size, mask, emptyIndex, binary],
   * stop words by hash, the count arrays, status and deferred tokens, IDF weights (empty: none)
   * and where `take` writes a row's vector.
   */
  create(
    settings: Int32Array,
    stopHashes: Int32Array,
    stopIds: Int32Array,
    wordStart: Int32Array,
    words: Uint8Array,
    dense: Int32Array,
    bits: Int32Array,
    summary: Int32Array,
    status: Int32Array,
    deferred: Int32Array,
    idf: Float64Array,
    outIndices: Int32Array,
    outValues: Float64Array,
  ): object;
  /** The JSON string from `at` to its closing quote: the index past it; -1 to give the record up; -2 when too many tokens were deferred. */
  read(context: object, bytes: Uint8Array, at: number): number;
  /** The row counted so far (`adds` adds) as indices and IDF-weighted values in outIndices / outValues, counts cleared: the entry count; -1 (nothing done) when `adds` is beyond their room. */
  take(context: object, adds: number): number;
}

export type TextLoop = 'native' | 'js';

const ADDON = join('dist', 'native', 'text-loop.node');

let wanted: TextLoop = process.env.MLSTREAM_TEXT_LOOP === 'js' ? 'js' : 'native';
let loaded: { addon: TextLoopAddon | undefined; why: string } | undefined;

/** Which loop fused text stages made from now on use (config `textLoop`; workers are told in their init message). */
export function useTextLoop(loop: TextLoop): void {
  wanted = loop;
}

/**
 * The addon, or undefined with why not: asked for the TypeScript loop, not built, or not
 * loadable here. Found by walking up from this module to the folder holding dist/ (the same
 * from the compiled bundles and from the TypeScript sources run through tsx).
 */
export function textLoopAddon(): { addon: TextLoopAddon | undefined; why: string } {
  if (wanted === 'js') return { addon: undefined, why: 'MLSTREAM_TEXT_LOOP is js' };
  if (loaded) return loaded;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++, dir = dirname(dir)) {
    const file = join(dir, ADDON);
    if (!existsSync(file)) continue;
    try {
      loaded = { addon: createRequire(import.meta.url)(file) as TextLoopAddon, why: `loaded ${file}` };
    } catch (e) {
      loaded = { addon: undefined, why: `${file} did not load: ${(e as Error).message}` };
    }
    return loaded;
  }
  loaded = { addon: undefined, why: `${ADDON} is not built (npm run build compiles it with cc)` };
  return loaded;
}
