import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { ParamReader, readMetadata, readParquetRows, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { loadSparkObject } from '../../../runtime/packages/spark-loader.js';
import { dot, Frame, type SparseVector, type Vector } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import { TypedArena } from '../../../runtime/pipeline/arena.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import { StageRegistry } from '../../../runtime/pipeline/registry.js';
import type { Stage, StageContext } from '../../../runtime/pipeline/stage.js';
import { textStages } from '../../../runtime/stages/spark/text.js';
import { hashingTFIndex, murmur3, murmur3Legacy, TermCounts } from '../../../runtime/stages/spark/text-vectors.js';
import { denseFromStruct, matrixFromStruct } from '../../../runtime/stages/spark/udt.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../../helpers/fixtures.js';

const ML = 'org.apache.spark.ml.feature.';

function context(cls: string, paramMap: Record<string, unknown>, data: Record<string, unknown>[] = [], sparkVersion = '3.5.1'): StageContext {
  const metadata: SparkMetadata = { class: ML + cls, uid: `${cls}_test`, sparkVersion, paramMap };
  return { dir: '/nowhere', metadata, params: new ParamReader(metadata, 'test'), readData: async () => data, loadNested: async () => [] };
}

async function vectorsOf(s: Stage, column: string, records: Record<string, unknown>[], type = 'ARRAY<STRING>'): Promise<(Vector | null)[]> {
  const frame = buildFrame(records, parseInputSchema({ [column]: type }));
  await s.transform(frame);
  return frame.getTyped(s.outputCols[0]!, 'vector').values;
}

const sparse = (size: number, indices: number[], values: number[]): SparseVector => ({
  size,
  indices: Int32Array.from(indices),
  values: Float64Array.from(values),
});

/** Our own stages only, so these tests do not depend on other families being finished. */
function textRegistry(hashingSparkVersion?: string): StageRegistry {
  const registry = new StageRegistry();
  for (const [name, factory] of Object.entries(textStages)) {
    const forced: typeof factory = (ctx) => factory({ ...ctx, metadata: { ...ctx.metadata, sparkVersion: hashingSparkVersion } });
    registry.register(name, hashingSparkVersion && name.endsWith('HashingTF') ? forced : factory);
  }
  return registry;
}

async function stagesOf(dir: string, subdirs: readonly string[], registry = textRegistry()): Promise<Stage[]> {
  const out: Stage[] = [];
  for (const sub of subdirs) out.push(...(await loadSparkObject(`${dir}/stages/${sub}`, registry)));
  return out;
}

async function runAll(stages: Stage[], frame: Frame): Promise<Frame> {
  for (const s of stages) await s.transform(frame);
  return frame;
}

describe('CountVectorizerModel', () => {
  const vocabulary = [{ vocabulary: ['a', 'b', 'c'] }];
  const count = async (params: Record<string, unknown>) => {
    const s = await textStages[ML + 'CountVectorizerModel']!(context('CountVectorizerModel', { inputCol: 'w', outputCol: 'v', ...params }, vocabulary));
    return (await vectorsOf(s, 'w', [{ w: ['a', 'b', 'a', 'zzz'] }, { w: [] }]))!;
  };

  it('counts in-vocabulary terms into a sparse vector of the vocabulary size', async () => {
    assert.deepEqual(await count({}), [sparse(3, [0, 1], [2, 1]), sparse(3, [], [])]);
  });

  it('applies minTF as a count, or as a share of all tokens (unknown ones too) when below 1', async () => {
    assert.deepEqual((await count({ minTF: 2 }))[0], sparse(3, [0], [2]));
    assert.deepEqual((await count({ minTF: 0.5 }))[0], sparse(3, [0], [2]));
    assert.deepEqual((await count({ minTF: 0.25 }))[0], sparse(3, [0, 1], [2, 1]));
  });

  it('writes 1 for every kept term when binary', async () => {
    assert.deepEqual((await count({ binary: true, minTF: 2 }))[0], sparse(3, [0], [1]));
  });
});

describe('HashingTF', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  const hash = (s: string, seed: number, legacy = false) => {
    const b = bytes(s);
    return (legacy ? murmur3Legacy(b, b.length, seed) : murmur3(b, b.length, seed)) >>> 0;
  };

  it('hashes with standard MurmurHash3 x86_32 (published test vectors)', () => {
    assert.equal(hash('', 1), 0x514e28b7);
    assert.equal(hash('a', 0x9747b28c), 0x7fa09ea6);
    assert.equal(hash('ab', 0x9747b28c), 0x74875592);
    assert.equal(hash('abc', 0x9747b28c), 0xc84a62dd);
    assert.equal(hash('abcd', 0x9747b28c), 0xf0478627);
    assert.equal(hash('Hello, world!', 1234), 0xfaf6cdb3);
    assert.equal(hash('ππππππππ', 0x9747b28c), 0xd58063c1);
    assert.equal(hash('The quick brown fox jumps over the lazy dog', 0x9747b28c), 0x2fa826cd);
  });

  it('mixes each tail byte as a signed block in the pre-3.0 variant (values worked out by hand)', () => {
    assert.equal(hash('abcd', 0x9747b28c, true), 0xf0478627, 'no tail: both variants agree');
    assert.equal(hash('a', 42, true) | 0, 1485273170);
    assert.equal(hash('ab', 42, true) | 0, -97053317);
    assert.equal(hash('abcde', 42, true) | 0, 814637928);
    assert.equal(hash('é', 42, true) | 0, 2119106806);
    assert.equal(hash('a', 42) | 0, -1293573533);
  });

  it('places terms as the PySpark doctests of each era show', () => {
    const places = (n: number, legacy: boolean) => ['a', 'b', 'c'].map((t) => hashingTFIndex(t, n, legacy)).sort();
    assert.deepEqual(places(10, true), [0, 1, 2]);
    assert.deepEqual(places(5, true), [0, 1, 2]);
    assert.deepEqual(places(10, false), [5, 7, 8]);
    assert.deepEqual(places(5, false), [0, 2, 3]);
  });

  it('encodes an unpaired surrogate as "?", as Java does', () => {
    assert.equal(hashingTFIndex('x\ud800', 1 << 18, false), hashingTFIndex('x?', 1 << 18, false));
  });

  it('chooses the hash by the saved sparkVersion and counts repeats unless binary', async () => {
    const make = (version: string, binary = false) =>
      textStages[ML + 'HashingTF']!(context('HashingTF', { inputCol: 'w', outputCol: 'v', numFeatures: 10, binary }, [], version));
    const rows = [{ w: ['a', 'b', 'c', 'a'] }];
    assert.deepEqual((await vectorsOf(await make('2.4.3'), 'w', rows))[0], sparse(10, [0, 1, 2], [2, 1, 1]));
    assert.deepEqual((await vectorsOf(await make('3.5.1'), 'w', rows))[0], sparse(10, [5, 7, 8], [1, 2, 1]));
    const bin = (await vectorsOf(await make('3.5.1', true), 'w', rows))[0] as SparseVector;
    assert.deepEqual([...bin.values], [1, 1, 1]);
  });
});

describe('IDFModel', () => {
  const idf = [{ idf: { type: 1, size: null, indices: null, values: [0, 1.5, 2] } }];
  const model = () => textStages[ML + 'IDFModel']!(context('IDFModel', { inputCol: 'tf', outputCol: 'x' }, idf));

  it('multiplies each value by its idf, keeping sparse indices and explicit zeros', async () => {
    const out = await vectorsOf(await model(), 'tf', [{ tf: { size: 3, indices: [0, 2], values: [3, 4] } }, { tf: [1, 2, 3] }], 'VECTOR');
    assert.deepEqual(out, [sparse(3, [0, 2], [0, 8]), Float64Array.of(0, 3, 6)]);
  });

  it('fails a row whose vector reaches past the idf', async () => {
    const s = await model();
    const frame = buildFrame([{ tf: { size: 5, indices: [4], values: [1] } }], parseInputSchema({ tf: 'VECTOR' }));
    await s.transform(frame);
    assert.equal(frame.rejections[0]?.code, 'PIPELINE_ERROR');
  });
});

describe('Word2VecModel', { skip: skipWithoutFixtures }, () => {
  const embed = async (dir: string, sentences: string[][]) => {
    const [s] = await loadSparkObject(dir, textRegistry());
    return vectorsOf(s!, s!.inputCols[0]!, sentences.map((words) => ({ [s!.inputCols[0]!]: words })));
  };
  const sentences = [['Hi', 'I', 'heard', 'about', 'Spark'], ['Logistic', 'regression', 'models', 'are', 'neat'], ['unknown'], []];

  it('averages float32 word vectors over all words, unknown ones included', async () => {
    const dir = fixture('hydro22-word2vec/stages/0_w2v_12a4ae5c4ca6');
    const words = new Map((await readParquetRows(dir)).map((r) => [r.word as string, r.vector as number[]]));
    const [hi, unknown, empty] = await embed(dir, [['Hi', 'nope'], ['nope'], []]);
    assert.deepEqual(hi, Float64Array.from(words.get('Hi')!, (x) => x * 0.5));
    assert.deepEqual(unknown, new Float64Array(3));
    assert.deepEqual(empty, sparse(3, [], []));
  });

  it('reads the 2.1 wordIndex/wordVectors layout and the 2.2+ word/vector rows alike', async () => {
    const old = await embed(fixture('hydro21-word2vec/stages/0_w2v_4c3ed7c223c6'), sentences);
    const current = await embed(fixture('hydro22-word2vec/stages/0_w2v_12a4ae5c4ca6'), sentences);
    assert.deepEqual(old, current);
  });

  it('loads a single saved Word2VecModel (3.5.1)', async () => {
    const [v] = await embed(fixture('colo07-word2vec-single'), [['45', '98']]);
    assert.equal((v as Float64Array).length, 5);
  });
});

describe('text pipelines from real Spark saves', { skip: skipWithoutFixtures }, () => {
  it('jpmml33-sentiment-lsvc: tokens, counts, bigrams and idf give Spark’s 1000 predictions', async () => {
    const dir = fixture('jpmml33-sentiment-lsvc');
    const stages = await stagesOf(dir, ['1_RegexTokenizer_da9a6f49ce82', '2_StopWordsRemover_bafbf4f2b1ec', '3_CountVectorizer_86b7c4aead77', '4_NGram_b4f50078cfab', '5_CountVectorizer_994141b483c2']);
    const [idf] = await stagesOf(dir, ['7_IDF_146d8c2408b5']);
    const input = readSparkCsv(`${dir}/sample/input-Sentiment.csv`).rows;
    const frame = await runAll(stages, buildFrame(input.map((r) => ({ Sentence: r[0] })), parseInputSchema({ Sentence: 'STRING' })));
    assert.deepEqual(frame.getTyped('filteredTokenizedSentence', 'strings').values[0], ['way', 'plug', 'us', 'unless', 'go', 'converter']);
    // VectorAssembler is another family's stage: concatenate the two count vectors here.
    const a = frame.getTyped('countVector_1to1', 'vector');
    const b = frame.getTyped('countVector_1to2', 'vector');
    const assembled = a.values.map((x, i) => {
      const y = b.values[i] as SparseVector;
      const u = x as SparseVector;
      return sparse(a.size + b.size, [...u.indices, ...[...y.indices].map((k) => k + a.size)], [...u.values, ...y.values]);
    });
    frame.set('featureVector', { type: 'vector', size: a.size + b.size, values: assembled });
    await idf!.transform(frame);
    const tfidf = frame.getTyped('idfFeatureVector', 'vector').values;
    const first = tfidf[0] as SparseVector;
    const idfValues = denseFromStruct((await readParquetRows(`${dir}/stages/7_IDF_146d8c2408b5`))[0]!.idf);
    assert.deepEqual([...first.values], [...first.indices].map((k, n) => (assembled[0] as SparseVector).values[n]! * idfValues[k]!));
    const svcDir = `${dir}/stages/8_LinearSVC_b24d0901da97`;
    const [svc] = await readParquetRows(svcDir);
    const threshold = (await readMetadata(svcDir)).paramMap!.threshold as number;
    const w = denseFromStruct(svc!.coefficients);
    const predictions = tfidf.map((v) => (dot(v!, w) + Number(svc!.intercept) > threshold ? '1' : '0'));
    assert.deepEqual(predictions, readSparkCsv(`${dir}/sample/expected-LinearSVCSentiment.csv`).rows.map((r) => r[0]));
  });

  it('jpmml33-sentiment-lsvc end to end through every registered Spark stage', async (t) => {
    const registry = new StageRegistry();
    try {
      (await import('../../../runtime/stages/spark/index.js')).registerSparkStages(registry);
    } catch (e) {
      return t.skip(`the Spark stage families do not load yet: ${(e as Error).message}`);
    }
    const missing = ['feature.VectorAssembler', 'classification.LinearSVCModel'].filter((c) => !registry.has(`org.apache.spark.ml.${c}`));
    if (missing.length) return t.skip(`not registered yet: ${missing.join(', ')}`);
    const dir = fixture('jpmml33-sentiment-lsvc');
    const pipeline = new Pipeline(await loadSparkObject(dir, registry), ['Sentence']);
    assert.equal(pipeline.active.length, 8, 'the Score indexer is skipped');
    const input = readSparkCsv(`${dir}/sample/input-Sentiment.csv`).rows;
    const frame = await pipeline.run(buildFrame(input.map((r) => ({ Sentence: r[0] })), parseInputSchema({ Sentence: 'STRING' })));
    const predictions = [...frame.getTyped(pipeline.outputs!.predictionCol, 'double').values].map(String);
    assert.deepEqual(predictions, readSparkCsv(`${dir}/sample/expected-LinearSVCSentiment.csv`).rows.map((r) => r[0]));
  });

  /** Share of rows whose arg-max logistic margin names their label. */
  async function accuracy(dir: string, stageDirs: readonly string[], lrDir: string, column: string, rows: readonly { text: string; label: number }[], hashVersion?: string) {
    const stages = await stagesOf(dir, stageDirs, textRegistry(hashVersion));
    const frame = await runAll(stages, buildFrame(rows.map((r) => ({ [column]: r.text })), parseInputSchema({ [column]: 'STRING' })));
    const [lr] = await readParquetRows(`${dir}/stages/${lrDir}`);
    const m = matrixFromStruct(lr!.coefficientMatrix);
    const b = denseFromStruct(lr!.interceptVector);
    const features = frame.getTyped(stages.at(-1)!.outputCols[0]!, 'vector').values;
    let hits = 0;
    features.forEach((v, i) => {
      const margins = Array.from({ length: m.numRows }, (_, k) => dot(v!, m.values, k * m.numCols) + b[k]!);
      const predicted = m.numRows === 1 ? Number(margins[0]! > 0) : margins.indexOf(Math.max(...margins));
      if (predicted === rows[i]!.label) hits++;
    });
    return hits / rows.length;
  }

  it('diegoami-spam-hashingtf-lr (2.4.3): only the pre-3.0 hash reproduces the training labels', async () => {
    const dir = fixture('diegoami-spam-hashingtf-lr');
    const rows = readSparkCsv(`${dir}/sample/spam_out.csv`).rows.filter((r) => r.length === 2).map((r) => ({ text: r[0]!, label: Number(r[1]) }));
    const args = [dir, ['0_Tokenizer_bc2681399278', '1_HashingTF_ecaf1da4c8f7'], '2_LogisticRegression_05e43c343aef', 'message', rows] as const;
    assert.ok((await accuracy(...args)) > 0.99);
    assert.ok((await accuracy(...args, '3.0.0')) < 0.9);
  });

  it('hydro21-tok-hashingtf-lr (2.1.0): the only weights fitted sit where the pre-3.0 hash puts the training words', async () => {
    const [lr] = await readParquetRows(fixture('hydro21-tok-hashingtf-lr/stages/2_logreg_f124ebf7446a'));
    const weights = matrixFromStruct(lr!.coefficientMatrix).values;
    const fitted = [...weights.keys()].filter((k) => weights[k] !== 0);
    // The training documents of Spark's Pipeline example, which this model was fitted on.
    const words = 'a b c d e spark f g h hadoop mapreduce'.split(' ');
    const places = (legacy: boolean) => words.map((w) => hashingTFIndex(w, 1000, legacy)).sort((x, y) => x - y);
    assert.deepEqual(places(true), fitted);
    assert.notDeepEqual(places(false), fitted);
  });

  it('novo-twitter-tfidf-lr (3.5.1): only the standard hash fits the validation labels', async () => {
    const dir = fixture('novo-twitter-tfidf-lr');
    const names = ['Negative', 'Positive', 'Neutral', 'Irrelevant'];
    const rows = readSparkCsv(`${dir}/sample/twitter_validation.csv`).rows.filter((r) => r.length >= 4).map((r) => ({ text: r[3]!, label: names.indexOf(r[2]!) }));
    assert.ok(rows.length > 900);
    const stageDirs = ['0_Tokenizer_a57296d89fe2', '1_StopWordsRemover_00f1f8be6c83', '2_HashingTF_624a8413b7f7', '3_IDF_9f2bf62500a7'];
    const args = [dir, stageDirs, '6_LogisticRegression_548f3bf7584a', 'Tweet content', rows] as const;
    assert.ok((await accuracy(...args)) > 0.85);
    assert.ok((await accuracy(...args, '2.4.0')) < 0.6);
  });
});

describe('TermCounts', () => {
  it('gives back each distinct index once, ascending, with its count, row after row, on both the bitmap and the sorting path', () => {
    // Sizes around the 32-bit word and summary boundaries, and one past the dense limit (sorting).
    const sizes = fc.constantFrom(1, 31, 32, 33, 1023, 1024, 1025, 16384, 70_001, (1 << 20) + 1);
    const row = (size: number) => fc.array(fc.oneof(fc.integer({ min: 0, max: size - 1 }), fc.constantFrom(0, size - 1, Math.min(size - 1, 31), Math.min(size - 1, 32))), { maxLength: 400 });
    fc.assert(
      fc.property(
        sizes.chain((size) => fc.tuple(fc.constant(size), fc.array(row(size), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), fc.boolean())),
        ([size, rows, minCount, binary]) => {
          const counts = new TermCounts(size);
          const arena = new TypedArena(64);
          for (const indices of rows) {
            for (const i of indices) counts.add(i);
            const reference = new Map<number, number>();
            for (const i of indices) reference.set(i, (reference.get(i) ?? 0) + 1);
            const expected = [...reference].filter(([, c]) => c >= minCount).sort((a, b) => a[0] - b[0]);
            const v = counts.take(arena, size, minCount, binary);
            assert.equal(v.size, size);
            assert.deepEqual([...v.indices], expected.map(([i]) => i));
            assert.deepEqual([...v.values], expected.map(([, c]) => (binary ? 1 : c)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
