import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import type { Stage } from '../../../runtime/pipeline/stage.js';
import type { JsonTextReader } from '../../../runtime/codecs/json-text-record.js';
import { textLoopAddon, useTextLoop, type TextLoop } from '../../../runtime/native/text-loop.js';
import { jsonTextReaderOf } from '../../../runtime/stages/spark/fused-text.js';
import { textStages } from '../../../runtime/stages/spark/text.js';
import { murmur3, SEED } from '../../../runtime/stages/spark/text-vectors.js';
import { loadMails } from '../../../scripts/examples/spam-corpus.js';

/**
 * The token loop in C (runtime/native/text-loop.c) against the TypeScript loop it replaces:
 * for every chain the JSON path serves, the same JSON string bytes must give the same end
 * index (or the same giving up) and the same vector, bit for bit. The TypeScript loop is held to
 * the general stages by fused-text.test.ts and json-text-path.test.ts, which run the C loop too
 * wherever it is built; here the two loops meet directly, on generated strings that lean on
 * what the C loop hands back (escapes, non-ASCII, bytes that are not UTF-8, more such tokens
 * than it keeps room for) and on the SpamAssassin mails.
 */

const ML = 'org.apache.spark.ml.feature.';

after(() => useTextLoop('native'));

async function stage(cls: string, uid: string, paramMap: Record<string, unknown>, data: Record<string, unknown>[] = [], sparkVersion = '3.5.1'): Promise<Stage> {
  const metadata: SparkMetadata = { class: ML + cls, uid, sparkVersion, paramMap };
  return textStages[ML + cls]!({ dir: '/nowhere', metadata, params: new ParamReader(metadata, 'test'), readData: async () => data, loadNested: async () => [] });
}

const idfData = (size: number) => [{ idf: { type: 1, size: null, indices: null, values: Array.from({ length: size }, (_, i) => ((i * 7919) % 13) / 3 + 0.1) } }];

const CHAINS: [string, () => Promise<Stage[]>][] = [
  ['Tokenizer → StopWordsRemover → HashingTF (2^18) → IDF, as spam-text', async () => [
    await stage('Tokenizer', 'tok', { inputCol: 't', outputCol: 'w' }),
    await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f' }),
    await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'tf', numFeatures: 1 << 18 }),
    await stage('IDFModel', 'idf', { inputCol: 'tf', outputCol: 'v' }, idfData(1 << 18)),
  ]],
  ['Tokenizer → HashingTF (Spark 2 hashing, binary, size not a power of two)', async () => [
    await stage('Tokenizer', 'tok', { inputCol: 't', outputCol: 'w' }),
    await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'v', numFeatures: 1000, binary: true }, [], '2.4.3'),
  ]],
  ['RegexTokenizer \\s, no minimum length, keeping case → case-sensitive stop words → HashingTF', async () => [
    await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s', toLowercase: false, minTokenLength: 0 }),
    await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', caseSensitive: true, stopWords: ['The', 'you', 'K', 'ΣΑΣ', 'don\'t'] }),
    await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'v', numFeatures: 33 }),
  ]],
  ['RegexTokenizer \\s+, minimum length 3 → stop words with "" → HashingTF (Spark 2 hashing) → IDF', async () => [
    await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s+', minTokenLength: 3 }),
    await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', locale: 'en', stopWords: ['', 'the', 'free', 'money'] }),
    await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'tf', numFeatures: 64 }, [], '2.1.0'),
    await stage('IDFModel', 'idf', { inputCol: 'tf', outputCol: 'v' }, idfData(64)),
  ]],
  ['RegexTokenizer \\s+, no minimum length → HashingTF', async () => [
    await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s+', minTokenLength: 0 }),
    await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'v', numFeatures: 40 }),
  ]],
];

/** The chain's JSON reader, fused with the given loop. */
async function readerOf(build: () => Promise<Stage[]>, loop: TextLoop): Promise<JsonTextReader> {
  useTextLoop(loop);
  const reader = jsonTextReaderOf(new Pipeline(await build(), ['t']).executed[0]);
  assert.ok(reader, 'the chain is read from JSON bytes');
  return reader;
}

/** What a reader makes of a string's bytes from `at`: its end and vector, or its giving up. */
function readWith(reader: JsonTextReader, bytes: Uint8Array, at: number): unknown {
  const end = reader.read(bytes, at);
  return end < 0 ? { end } : { end, vector: reader.finish() };
}

const piece = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.constantFrom(
      ' ', '  ', '\\n', '\\t', '\\r', '\\f', '\\b', '\\"', '\\\\', '\\/', '\x7f',
      'a', 'B', 'k', 'K', 'the', 'The', 'THE', 'you', "don't", 'free', 'FREE', 'money', 'abcd', 'abcdefgh', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '_', '1', '-', '.', '/', '@',
      'é', 'É', 'straße', 'ΣΑΣ', '\u212a', '😀', '\u00a0', '\u2028',
    ),
  },
  // What gives a string up: a \u escape, an unknown escape, a lone backslash before the quote, raw control characters.
  { weight: 1, arbitrary: fc.constantFrom('\\u0041', '\\x', '\\', '\n', '\x00', '\x1f') },
);
/** JSON string content (between the quotes) as bytes: pieces, sometimes a byte that is not UTF-8, sometimes no closing quote. */
const content = fc
  .tuple(fc.array(piece, { maxLength: 60, size: 'medium' }), fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(0xff, 0xc3, 0xe2, 0x80) }), fc.nat(60), fc.nat(9).map((n) => n > 0))
  .map(([pieces, bad, at, close]) => {
    const text = Buffer.from(pieces.join(''));
    const body = bad === null ? text : Buffer.concat([text.subarray(0, at % (text.length + 1)), Buffer.from([bad]), text.subarray(at % (text.length + 1))]);
    return Buffer.concat([Buffer.from('{"t":"'), body, Buffer.from(close ? '"}' : '')]);
  });

describe('the C token loop ≡ the TypeScript loop', () => {
  it('is built wherever a C compiler is (npm run build), so the suite runs it', () => {
    let compiler = true;
    try {
      execFileSync(process.env.CC ?? 'cc', ['--version'], { stdio: 'ignore' });
    } catch {
      compiler = false;
    }
    useTextLoop('native');
    const { addon, why } = textLoopAddon();
    if (compiler) assert.ok(addon, why);
    useTextLoop('js');
    assert.equal(textLoopAddon().addon, undefined, 'MLSTREAM_TEXT_LOOP=js turns it off');
  });

  for (const [name, build] of CHAINS) {
    it(`${name}: same ends and vectors on generated JSON strings`, async () => {
      const js = await readerOf(build, 'js');
      const native = await readerOf(build, 'native');
      let read = 0;
      await fc.assert(
        fc.property(fc.array(content, { minLength: 1, maxLength: 6 }), (values) => {
          for (const bytes of values) {
            const expected = readWith(js, bytes, 6);
            assert.deepStrictEqual(readWith(native, bytes, 6), expected, bytes.toString('latin1'));
            if ((expected as { end: number }).end > 0) read++;
          }
        }),
        { numRuns: 500 },
      );
      assert.ok(read > 500, `${read} strings read to their end`);
    });
  }

  it('strings with more tokens for the per-token rules, or more counted tokens, than the C loop keeps room for, and a string at a view\'s edge', async () => {
    for (const [, build] of CHAINS) {
      const js = await readerOf(build, 'js');
      const native = await readerOf(build, 'native');
      const cases = [
        `{"t":"${'é '.repeat(5000)}free"}`,
        `{"t":"${'caf\\"e '.repeat(4100)}"}`,
        `{"t":"${'x é '.repeat(4095)}"}`,
        // More counted tokens than the C loop's take has room for (16,384): taken in TypeScript.
        `{"t":"${'a b cd efg '.repeat(4200)}"}`,
        '{"t":"ends without a quote',
        '{"t":"escape at the end\\',
        '{"t":""}',
        '{"t":"   "}',
      ];
      for (const json of cases) {
        const bytes = Buffer.from(json);
        assert.deepStrictEqual(readWith(native, bytes, 6), readWith(js, bytes, 6), json.slice(0, 40));
        // The same string inside a larger buffer, read through a view that ends where it ends.
        const view = Buffer.concat([Buffer.from('xx'), bytes, Buffer.from('"yy')]).subarray(2, 2 + bytes.length);
        assert.deepStrictEqual(readWith(native, view, 6), readWith(js, bytes, 6), `view of ${json.slice(0, 40)}`);
      }
    }
  });

  it('a token whose hash is a stop word\'s is still counted: the words are compared, not only the hashes', async () => {
    // Found by a brute-force search over 7-letter strings (not kept): each has the 32-bit
    // Murmur3 hash (Spark 3, seed 42) of a 7-letter stop word. The general HashingTF agrees.
    const collisions = [['vmrrgda', 'himself'], ['ujxnkva', 'between']] as const;
    for (const [token, word] of collisions) assert.equal(murmur3(Buffer.from(token), 7, SEED), murmur3(Buffer.from(word), 7, SEED), `${token} ~ ${word}`);
    const [, build] = CHAINS[0]!;
    const js = await readerOf(build, 'js');
    const native = await readerOf(build, 'native');
    for (const [token, word] of collisions) {
      const bytes = Buffer.from(`{"t":"${word} ${token} ${token.toUpperCase()} ${word}"}`);
      const expected = readWith(js, bytes, 6) as { vector: { indices: Int32Array } };
      assert.equal(expected.vector.indices.length, 1, 'the token is counted at the index it shares with the stop word, which is dropped');
      assert.deepStrictEqual(readWith(native, bytes, 6), expected);
    }
  });

  it('on every SpamAssassin mail', async () => {
    const mails = await loadMails();
    const [, build] = CHAINS[0]!;
    const js = await readerOf(build, 'js');
    const native = await readerOf(build, 'native');
    let read = 0;
    for (const mail of mails) {
      const bytes = Buffer.from(JSON.stringify({ t: mail.text }));
      const expected = readWith(js, bytes, 6);
      assert.deepStrictEqual(readWith(native, bytes, 6), expected, mail.text.slice(0, 80));
      if ((expected as { end: number }).end > 0) read++;
    }
    assert.ok(read > mails.length * 0.9, `${read} of ${mails.length} mails read to their end`);
  });
});
