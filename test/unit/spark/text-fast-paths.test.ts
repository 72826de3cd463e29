import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import type { SparseVector } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import type { Stage } from '../../../runtime/pipeline/stage.js';
import { compileJavaRegex, javaSplit, splitOnJavaWhitespace } from '../../../runtime/stages/spark/java-regex.js';
import { hashingTFIndex, murmur3, murmur3Legacy } from '../../../runtime/stages/spark/text-vectors.js';
import { javaLocaleLowerCase, textStages } from '../../../runtime/stages/spark/text.js';
import { AsciiWordHashes, AsciiWordTrie } from '../../../runtime/stages/spark/word-set.js';

/**
 * The hot-path shortcuts of the text stages must give exactly what the general code gives:
 * each is checked against the general implementation (itself tested against Java and Spark)
 * on generated inputs that lean on the edge cases.
 */

const ML = 'org.apache.spark.ml.feature.';

async function stage(cls: string, paramMap: Record<string, unknown>): Promise<Stage> {
  const metadata: SparkMetadata = { class: ML + cls, uid: `${cls}_test`, sparkVersion: '3.5.1', paramMap };
  return textStages[ML + cls]!({ dir: '/nowhere', metadata, params: new ParamReader(metadata, 'test'), readData: async () => [], loadNested: async () => [] });
}

/** Text made of the characters that matter: each of Java's six \s characters, Unicode spaces Java's \s ignores, letters, non-ASCII. */
const texty = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\x0b', '\f', '\r', '\u00a0', '\u2003', '\u0085', 'a', 'B', 'é', 'İ', '😀', "'"), maxLength: 40 });

describe('whitespace splitting without a RegExp', () => {
  it('splits like Pattern.split for \\s and \\s+ on any text', () => {
    const single = compileJavaRegex('\\s');
    const runs = compileJavaRegex('\\s+');
    fc.assert(
      fc.property(texty, (s) => {
        assert.deepEqual(splitOnJavaWhitespace(s, false), javaSplit(s, single));
        assert.deepEqual(splitOnJavaWhitespace(s, true), javaSplit(s, runs));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the edge cases of Java split: leading empty token, no trailing ones, the input when nothing matches', () => {
    assert.deepEqual(splitOnJavaWhitespace(' a  b  ', false), ['', 'a', '', 'b']);
    assert.deepEqual(splitOnJavaWhitespace(' a  b  ', true), ['', 'a', 'b']);
    assert.deepEqual(splitOnJavaWhitespace('', false), ['']);
    assert.deepEqual(splitOnJavaWhitespace('   ', true), []);
    assert.deepEqual(splitOnJavaWhitespace('a\u00a0b', false), ['a\u00a0b']);
  });

  it('is what Tokenizer and a default RegexTokenizer use, with the same tokens as the general path', async () => {
    const tokenizer = await stage('Tokenizer', { inputCol: 'text', outputCol: 'w' });
    const regex = await stage('RegexTokenizer', { inputCol: 'text', outputCol: 'w', minTokenLength: 0 });
    const texts = fc.sample(texty, 300);
    const frame = buildFrame(texts.map((text) => ({ text })), parseInputSchema({ text: 'STRING' }));
    await tokenizer.transform(frame);
    assert.deepEqual(frame.getTyped('w', 'strings').values, texts.map((t) => javaSplit(t.toLowerCase(), compileJavaRegex('\\s'))));
    await regex.transform(frame);
    assert.deepEqual(frame.getTyped('w', 'strings').values, texts.map((t) => javaSplit(t.toLowerCase(), compileJavaRegex('\\s+'))));
  });
});

describe('stop words by hash', () => {
  const words = ['a', 'an', 'the', "don't", 'i', 'K', 'ab', 'ba', ''];
  const token = fc.string({ unit: fc.constantFrom('a', 'b', 'n', 't', 'h', 'e', 'i', 'k', 'K', 'T', "'", 'd', 'o'), maxLength: 6 });
  const murmur = (w: string): number => murmur3(Uint8Array.from(w, (c) => c.charCodeAt(0)), w.length, 42);
  // Weak hashes collide on purpose: a hash hit must still be confirmed by the characters.
  const hashes: [string, (w: string) => number][] = [['murmur3', murmur], ['length only', (w) => w.length], ['one value', () => 7], ['sum of codes', (w) => [...w].reduce((a, c) => a + c.charCodeAt(0), 0)]];

  for (const [name, hash] of hashes) {
    it(`decides like a Set of the words (${name})`, () => {
      const set = new Set(words);
      const index = new AsciiWordHashes(words, hash);
      fc.assert(
        fc.property(token, fc.string({ unit: fc.constantFrom(' ', 'x'), maxLength: 3 }), (t, pad) => {
          // The token sits inside a longer text, as the fused stage hands it over.
          const text = pad + t + pad;
          // Every candidate `find` gives has the hash and length; one with the same characters is the word.
          const candidates: string[] = [];
          for (let at = index.find(hash(t) | 0, t.length); at >= 0; at = index.find(hash(t) | 0, t.length, at + 1)) candidates.push(index.word(at));
          assert.ok(candidates.every((w) => w.length === t.length && (hash(w) | 0) === (hash(t) | 0)));
          assert.equal(candidates.includes(text.slice(pad.length, pad.length + t.length)), set.has(t), JSON.stringify(t));
        }),
        { numRuns: 3000 },
      );
    });
  }
});

describe('stop words through a character trie', () => {
  const words = ['a', 'an', 'the', "don't", 'i', 'über', 'K', '\u212a'];
  const token = fc.string({ unit: fc.constantFrom('a', 'n', 't', 'h', 'e', 'i', 'k', 'A', 'N', 'T', 'H', 'E', 'I', 'K', "'", 'd', 'o', 'ü', 'Ü', 'İ', '\u212a', 'b', 'r'), maxLength: 6 });

  it('decides like a Set of lower-cased words, or defers when a non-ASCII character decides', () => {
    for (const fold of [true, false]) {
      const list = fold ? words.map((w) => w.toLowerCase()) : words;
      const set = new Set(list);
      const trie = new AsciiWordTrie(set, fold);
      fc.assert(
        fc.property(token, (t) => {
          const found = trie.lookup(t);
          const expected = set.has(fold ? t.toLowerCase() : t);
          if (found === AsciiWordTrie.UNDECIDED) assert.ok(/[^\x00-\x7f]/.test(t), `${t} is ASCII yet undecided`);
          else assert.equal(found === 1, expected, `${JSON.stringify(t)} fold=${fold}`);
        }),
        { numRuns: 5000 },
      );
    }
  });

  it('removes exactly what comparing lower-cased tokens removes, in every casing mode', async () => {
    const lists = fc.sample(fc.array(token, { maxLength: 12 }), 200);
    for (const params of [{}, { caseSensitive: true }, { locale: 'tr' }, { locale: 'en_US' }]) {
      const s = await stage('StopWordsRemover', { inputCol: 'words', outputCol: 'f', stopWords: words, ...params });
      const frame = buildFrame(lists.map((w) => ({ words: w })), parseInputSchema({ words: 'ARRAY<STRING>' }));
      await s.transform(frame);
      const caseSensitive = 'caseSensitive' in params;
      const lower = javaLocaleLowerCase('locale' in params ? params.locale : undefined);
      const stop = new Set(caseSensitive ? words : words.map(lower));
      const expected = lists.map((l) => l.filter((t) => !stop.has(caseSensitive ? t : lower(t))));
      assert.deepEqual(frame.getTyped('f', 'strings').values, expected, JSON.stringify(params));
    }
  });

  it('treats the Kelvin sign in a stop list as the "k" it lower-cases to', async () => {
    const s = await stage('StopWordsRemover', { inputCol: 'words', outputCol: 'f', stopWords: ['\u212a'] });
    const frame = buildFrame([{ words: ['k', 'K', 'x'] }], parseInputSchema({ words: 'ARRAY<STRING>' }));
    await s.transform(frame);
    assert.deepEqual(frame.getTyped('f', 'strings').values, [['x']]);
  });
});

describe('HashingTF on ASCII terms', () => {
  const utf8Index = (term: string, n: number, legacy: boolean): number => {
    const bytes = new TextEncoder().encode(term.replace(/\p{Surrogate}/gu, '?'));
    const h = (legacy ? murmur3Legacy : murmur3)(bytes, bytes.length, 42);
    return ((h % n) + n) % n;
  };

  it('places every term where hashing its UTF-8 bytes does, for both hash variants', () => {
    const term = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'Z', '0', ' ', '~', '\x7f', '\x00'), fc.constantFrom('é', 'ü', '€', '😀')), maxLength: 17 });
    fc.assert(
      fc.property(term, fc.constantFrom(1 << 18, 1000, 7), fc.boolean(), (t, n, legacy) => {
        // `| 0`: a negative hash that is a multiple of n gives index -0, the same slot as 0.
        assert.equal(hashingTFIndex(t, n, legacy) | 0, utf8Index(t, n, legacy));
      }),
      { numRuns: 5000 },
    );
  });

  it('counts repeated terms into one sparse entry, in ascending index order', async () => {
    const s = await stage('HashingTF', { inputCol: 'w', outputCol: 'tf', numFeatures: 64 });
    const words = ['spam', 'ham', 'spam', 'eggs', 'spam', 'ham'];
    const frame = buildFrame([{ w: words }], parseInputSchema({ w: 'ARRAY<STRING>' }));
    await s.transform(frame);
    const v = frame.getTyped('tf', 'vector').values[0] as SparseVector;
    const counts = new Map<number, number>();
    for (const w of words) counts.set(hashingTFIndex(w, 64, false), (counts.get(hashingTFIndex(w, 64, false)) ?? 0) + 1);
    const expected = [...counts].sort((a, b) => a[0] - b[0]);
    assert.deepEqual([...v.indices], expected.map(([i]) => i));
    assert.deepEqual([...v.values], expected.map(([, c]) => c));
  });
});
