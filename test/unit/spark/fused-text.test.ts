import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { loadSparkObject } from '../../../runtime/packages/spark-loader.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import type { Stage } from '../../../runtime/pipeline/stage.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { jsonTextReaderOf } from '../../../runtime/stages/spark/fused-text.js';
import { textStages } from '../../../runtime/stages/spark/text.js';
import { loadMails } from '../../../scripts/examples/spam-corpus.js';
import { fixture, readSparkCsv, repoRoot, skipWithoutFixtures } from '../../helpers/fixtures.js';

/**
 * The fused text stage must give exactly what the general stages give: every output column,
 * every rejected row, bit for bit. Each pipeline runs twice over the same texts — once as the
 * loader fuses it, once with fusion off — on generated texts that lean on the edge cases
 * (Java's six whitespace characters, Unicode spaces Java ignores, letters whose lower case
 * changes length or turns ASCII, final sigma, surrogate pairs) and on real texts: the
 * SpamAssassin mails and the samples shipped with the Spark fixtures.
 */

const ML = 'org.apache.spark.ml.feature.';

async function stage(cls: string, uid: string, paramMap: Record<string, unknown>, data: Record<string, unknown>[] = [], sparkVersion = '3.5.1'): Promise<Stage> {
  const metadata: SparkMetadata = { class: ML + cls, uid, sparkVersion, paramMap };
  return textStages[ML + cls]!({ dir: '/nowhere', metadata, params: new ParamReader(metadata, 'test'), readData: async () => data, loadNested: async () => [] });
}

const idfData = (size: number) => [{ idf: { type: 1, size: null, indices: null, values: Array.from({ length: size }, (_, i) => (i % 5 === 0 ? 0 : ((i * 7919) % 13) / 3 + 0.1)) } }];

const VOCABULARY = ['a', 'the', 'k', 'kelvin', 'i̇', 'straße', 'σας', '_', 'x1', 'free', 'money', 'click', 'ı', 'é', 'you', ''];

const pieces = fc.constantFrom(
  ' ', '  ', '\t', '\n', '\x0b', '\f', '\r', '\u00a0', '\u0085', '\u2003',
  'a', 'B', 'k', 'K', '\u212a', 'é', 'É', 'İ', 'I', 'Σ', 'ς', '😀', '\ud800', "'", '_', '1', '-', '.',
  'the', 'The', 'THE', 'you', "don't", 'Free', 'MONEY', 'click', 'straße', 'ΣΑΣ', 'kelvin', 'x1', 'i', 'a',
);
const texts = fc.oneof(fc.array(pieces, { maxLength: 30 }).map((p) => p.join('')), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ maxLength: 30 }));

/** Runs both ways on the texts and compares every column the general pipeline writes that the fused one keeps, and the rejections. */
async function assertSame(general: Pipeline, fused: Pipeline, column: string, values: readonly (string | null)[]): Promise<void> {
  const fields = parseInputSchema({ [column]: 'STRING' });
  const records = values.map((v) => ({ [column]: v }));
  const a = await general.run(buildFrame(records, fields));
  const b = await fused.run(buildFrame(records, fields));
  assert.deepEqual(b.rejections, a.rejections);
  assert.deepEqual(b.rowIds, a.rowIds);
  // With every row rejected the general pipeline stops before writing the later columns.
  if (a.length === 0) return;
  assert.ok(b.columns.size > 1);
  for (const [name, col] of b.columns) {
    const expected = a.get(name);
    assert.equal(col.type, expected.type);
    const differs = col.values.findIndex((v, i) => !isDeepStrictEqual(v, expected.values[i]));
    if (differs >= 0) assert.deepStrictEqual(col.values[differs], expected.values[differs], `column ${name}, row ${differs}: ${JSON.stringify(values[b.rowIds[differs]!])}`);
    assert.deepStrictEqual({ ...col, values: [] }, { ...expected, values: [] });
  }
}

/**
 * Where the fused stage reads its text straight from a JSON record's bytes, the same texts
 * written as JSON strings (plain, and with '/' escaped as some encoders write it) must give the
 * general pipeline's vectors. Returns how many texts the JSON reader took (it gives up on
 * `\u` escapes, which the general path decodes).
 */
async function assertJsonSame(general: Pipeline, fused: Pipeline, column: string, values: readonly (string | null)[]): Promise<number> {
  const reader = jsonTextReaderOf(fused.executed[0]);
  const texts = values.filter((v): v is string => v !== null);
  if (!reader || texts.length === 0) return 0;
  const expected = (await general.run(buildFrame(texts.map((t) => ({ [column]: t })), parseInputSchema({ [column]: 'STRING' })))).get(fused.executed[0]!.outputCols[0]!);
  let read = 0;
  texts.forEach((text, row) => {
    for (const json of [JSON.stringify(text), JSON.stringify(text).replace(/\//g, '\\/')]) {
      const bytes = Buffer.from(json);
      const end = reader.read(bytes, 1);
      if (end < 0) continue;
      assert.equal(end, bytes.length, json);
      assert.deepStrictEqual(reader.finish(), expected.values[row], json);
      read++;
    }
  });
  return read;
}

function bothWays(stages: Stage[], column: string): { general: Pipeline; fused: Pipeline } {
  const general = new Pipeline(stages, [column], new Map(), { fuse: false });
  const fused = new Pipeline(stages, [column]);
  assert.ok(fused.executed.length < general.executed.length, `fused: ${fused.executed.map((s) => s.className).join(', ')}`);
  assert.match(fused.executed[0]!.className, /^mlstream\.FusedText/);
  return { general, fused };
}

describe('fused text chain ≡ general stages', () => {
  const chains: [string, () => Promise<Stage[]>][] = [
    ['Tokenizer → StopWordsRemover → HashingTF → IDF', async () => [
      await stage('Tokenizer', 'tok', { inputCol: 't', outputCol: 'w' }),
      await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f' }),
      await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'tf', numFeatures: 64 }),
      await stage('IDFModel', 'idf', { inputCol: 'tf', outputCol: 'v' }, idfData(64)),
    ]],
    ['Tokenizer → HashingTF (Spark 2 hashing, binary)', async () => [
      await stage('Tokenizer', 'tok', { inputCol: 't', outputCol: 'w' }),
      await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'v', numFeatures: 1000, binary: true }, [], '2.4.3'),
    ]],
    ['RegexTokenizer \\s+ keeping case, min length 2 → case-sensitive stop words → CountVectorizer (fractional minTF) → IDF', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s+', toLowercase: false, minTokenLength: 2 }),
      await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', caseSensitive: true, stopWords: ['The', 'you', 'é', 'ΣΑΣ'] }),
      await stage('CountVectorizerModel', 'cv', { inputCol: 'f', outputCol: 'tf', minTF: 0.1 }, [{ vocabulary: VOCABULARY }]),
      await stage('IDFModel', 'idf', { inputCol: 'tf', outputCol: 'v' }, idfData(VOCABULARY.length)),
    ]],
    ['RegexTokenizer \\W+ → stop words → CountVectorizer (binary, minTF 2)', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\W+' }),
      await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', stopWords: ['the', 'you', 'K'] }),
      await stage('CountVectorizerModel', 'cv', { inputCol: 'f', outputCol: 'v', minTF: 2, binary: true }, [{ vocabulary: VOCABULARY }]),
    ]],
    ['RegexTokenizer \\w+ matches, min length 3 → HashingTF → IDF', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\w+', gaps: false, minTokenLength: 3 }),
      await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'tf', numFeatures: 50 }),
      await stage('IDFModel', 'idf', { inputCol: 'tf', outputCol: 'v' }, idfData(50)),
    ]],
    ['RegexTokenizer \\W → HashingTF (Spark 2 hashing)', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\W' }),
      await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'v', numFeatures: 97 }, [], '2.1.0'),
    ]],
    ['RegexTokenizer \\s, no minimum length → stop words (locale en) → HashingTF', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s', minTokenLength: 0 }),
      await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', locale: 'en', stopWords: ['', 'the', "don't"] }),
      await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'v', numFeatures: 31 }),
    ]],
    // Stop words on HashingTF are checked by the token's hash, except where the list folds capitals the tokenizer keeps.
    ['RegexTokenizer \\s+ keeping case → case-insensitive stop words → HashingTF', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s+', toLowercase: false }),
      await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', stopWords: ['the', 'You', "don't", 'k'] }),
      await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'v', numFeatures: 64 }),
    ]],
    ['RegexTokenizer \\s keeping case → case-sensitive stop words → HashingTF (Spark 2 hashing)', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s', toLowercase: false, minTokenLength: 0 }),
      await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', caseSensitive: true, stopWords: ['The', 'you', 'K', '', 'ΣΑΣ'] }),
      await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'v', numFeatures: 33 }, [], '2.4.3'),
    ]],
    // \s+ with empty tokens kept: only a leading run of spaces gives one (Java's split), never a run inside the text.
    ['RegexTokenizer \\s+, no minimum length → HashingTF → IDF', async () => [
      await stage('RegexTokenizer', 'tok', { inputCol: 't', outputCol: 'w', pattern: '\\s+', minTokenLength: 0 }),
      await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'tf', numFeatures: 40 }),
      await stage('IDFModel', 'idf', { inputCol: 'tf', outputCol: 'v' }, idfData(40)),
    ]],
  ];
  for (const [name, build] of chains) {
    it(`${name}: same vectors and rejections on generated texts`, async () => {
      const { general, fused } = bothWays(await build(), 't');
      let readAsJson = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.option(texts, { freq: 10 }), { minLength: 1, maxLength: 8 }), async (batch) => {
          await assertSame(general, fused, 't', batch);
          readAsJson += await assertJsonSame(general, fused, 't', batch);
        }),
        { numRuns: 400 },
      );
      // The chains of whitespace tokens into HashingTF are read from JSON bytes; the others never.
      if (jsonTextReaderOf(fused.executed[0])) assert.ok(readAsJson > 1000, `${readAsJson} texts read as JSON`);
    });
  }

  it('spam-text: same predictions on every SpamAssassin mail', async () => {
    const stages = await loadSparkObject(join(repoRoot, 'model-packages/spam-text'), builtinRegistry());
    const { general, fused } = bothWays(stages, 'text');
    assert.equal(fused.executed.length, 2, 'the four text stages run as one');
    await assertSame(general, fused, 'text', (await loadMails()).map((m) => m.text));
  });
});

/** Text fixtures: folder, input column, sample file whose every cell is a text to try. */
const FIXTURES: [string, string, string][] = [
  ['novo-twitter-tfidf-lr', 'Tweet content', 'sample/twitter_validation.csv'],
  ['kappa-youtube-cv-lr', 'comment_clean', '../kappa-youtube-cv-lr/sample/YoutubeCommentsDataSet-first1500.csv'],
  ['kappa-youtube-cv-nb', 'comment_clean', '../kappa-youtube-cv-lr/sample/YoutubeCommentsDataSet-first1500.csv'],
  ['kappa-youtube-cv-dt', 'comment_clean', '../kappa-youtube-cv-lr/sample/YoutubeCommentsDataSet-first1500.csv'],
  ['kappa-youtube-cv-rf', 'comment_clean', '../kappa-youtube-cv-lr/sample/YoutubeCommentsDataSet-first1500.csv'],
  ['qhung-vi-tfidf-lr', 'tokenize', 'sample/data.csv'],
  ['qhung-vi-tfidf-nb-stale-dirs', 'tokenize', 'sample/data.csv'],
  ['kgv-news-cv-nb', 'description', '../novo-twitter-tfidf-lr/sample/twitter_validation.csv'],
  ['diegoami-spam-hashingtf-lr', 'message', 'sample/spam_out.csv'],
  ['chalanis-lyrics-tfidf-lr', 'lyrics', 'sample/Student_dataset.csv'],
  ['hydro21-tok-hashingtf-lr', 'text', '../diegoami-spam-hashingtf-lr/sample/spam_out.csv'],
];

describe('fused text chain ≡ general stages on real Spark exports', { skip: skipWithoutFixtures }, () => {
  for (const [name, column, sample] of FIXTURES) {
    it(`${name}: same outputs on its sample texts and on generated texts`, { skip: !existsSync(fixture(name)) && `${name} absent` }, async () => {
      const dir = fixture(name);
      const stages = await loadSparkObject(dir, builtinRegistry());
      const { general, fused } = bothWays(stages, column);
      const real = readSparkCsv(join(dir, sample)).rows.flat().slice(0, 4000);
      await assertSame(general, fused, column, real);
      await fc.assert(
        fc.asyncProperty(fc.array(texts, { minLength: 1, maxLength: 8 }), (batch) => assertSame(general, fused, column, batch)),
        { numRuns: 150 },
      );
    });
  }
  it('the fixture list covers every text fixture the pipeline fuses', async () => {
    const fusing: string[] = [];
    for (const name of readdirSync(fixture('.'))) {
      if (!existsSync(join(fixture(name), 'metadata'))) continue;
      try {
        const stages = await loadSparkObject(fixture(name), builtinRegistry());
        const inputs = stages.flatMap((s) => s.inputCols);
        if (new Pipeline(stages, inputs).executed.some((s) => s.className.startsWith('mlstream.FusedText'))) fusing.push(name);
      } catch {
        // Fixtures that are refused or need other inputs fuse nothing here.
      }
    }
    assert.deepEqual(fusing.sort(), FIXTURES.map(([n]) => n).sort());
  });
});

describe('fusion declines where the general path must run', () => {
  it('a Turkish-locale StopWordsRemover, an NGram after the tokenizer, or a tokens column read later keep the general stages', async () => {
    const tok = () => stage('Tokenizer', 'tok', { inputCol: 't', outputCol: 'w' });
    const turkish = [await tok(), await stage('StopWordsRemover', 'sw', { inputCol: 'w', outputCol: 'f', locale: 'tr' }), await stage('HashingTF', 'tf', { inputCol: 'f', outputCol: 'v' })];
    const ngram = [await tok(), await stage('NGram', 'ng', { inputCol: 'w', outputCol: 'g' }), await stage('HashingTF', 'tf', { inputCol: 'g', outputCol: 'v' })];
    const reread = [await tok(), await stage('HashingTF', 'tf', { inputCol: 'w', outputCol: 'v' }), await stage('HashingTF', 'tf2', { inputCol: 'w', outputCol: 'v2', numFeatures: 8 })];
    for (const stages of [turkish, ngram]) assert.deepEqual(new Pipeline(stages, ['t']).executed, stages);
    assert.deepEqual(new Pipeline(reread, ['t']).executed, reread);
  });
});
