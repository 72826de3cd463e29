import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { loadSparkObject } from '../../../runtime/packages/spark-loader.js';
import type { Frame, SparseVector, Vector } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import { StageRegistry } from '../../../runtime/pipeline/registry.js';
import type { Stage, StageContext } from '../../../runtime/pipeline/stage.js';
import { indexerStages } from '../../../runtime/stages/spark/indexers.js';
import { javaDoubleString } from '../../../runtime/stages/spark/common.js';
import { fixture, skipWithoutFixtures } from '../../helpers/fixtures.js';

const ML = 'org.apache.spark.ml.feature.';

function context(cls: string, paramMap: Record<string, unknown>, data: Record<string, unknown>[] = []): StageContext {
  const metadata: SparkMetadata = { class: ML + cls, uid: `${cls}_test`, sparkVersion: '3.3.0', paramMap };
  return { dir: '/nowhere', metadata, params: new ParamReader(metadata, 'test'), readData: async () => data, loadNested: async () => [] };
}

const make = (cls: string, paramMap: Record<string, unknown>, data?: Record<string, unknown>[]) => indexerStages[ML + cls]!(context(cls, paramMap, data));

async function run(s: Stage, records: Record<string, unknown>[], schema: Record<string, string>): Promise<Frame> {
  const frame = buildFrame(records, parseInputSchema(schema));
  await s.transform(frame);
  return frame;
}

const sparse = (size: number, indices: number[], values: number[]): SparseVector => ({
  size,
  indices: Int32Array.from(indices),
  values: Float64Array.from(values),
});

function registry(): StageRegistry {
  const r = new StageRegistry();
  for (const [name, factory] of Object.entries(indexerStages)) r.register(name, factory);
  return r;
}

describe('StringIndexerModel', () => {
  const labelsArray = [{ labelsArray: [['b', 'a', 'c']] }];
  const indexer = (handleInvalid: string) => make('StringIndexerModel', { inputCol: 'cat', outputCol: 'idx', handleInvalid }, labelsArray);
  const cats = [{ cat: 'a' }, { cat: 'zz' }, { cat: null }, { cat: 'c' }];

  it('maps labels to their fitted position and fails unseen labels and nulls with handleInvalid=error', async () => {
    const frame = await run(await indexer('error'), cats, { cat: 'STRING?' });
    const idx = frame.getTyped('idx', 'double').values;
    assert.equal(idx[0], 1);
    assert.equal(idx[3], 2);
    assert.deepEqual(frame.rejections.map((r) => [r.row, r.code]), [[1, 'PIPELINE_ERROR'], [2, 'PIPELINE_ERROR']]);
    assert.match(frame.rejections[0]!.message, /Unseen label: zz/);
    assert.match(frame.rejections[1]!.message, /NULL/);
  });

  it('gives unseen labels and nulls the index after the last label with handleInvalid=keep', async () => {
    const frame = await run(await indexer('keep'), cats, { cat: 'STRING?' });
    assert.deepEqual([...frame.getTyped('idx', 'double').values], [1, 3, 3, 2]);
    assert.equal(frame.rejections.length, 0);
  });

  it('drops rows with an unseen label or null in any column with handleInvalid=skip', async () => {
    const s = await make('StringIndexerModel', { inputCols: ['x', 'y'], outputCols: ['xi', 'yi'], handleInvalid: 'skip' }, [{ labelsArray: [['p', 'q'], ['r']] }]);
    const frame = await run(s, [{ x: 'q', y: 'r' }, { x: 'p', y: 'nope' }, { x: 'nope', y: 'r' }], { x: 'STRING', y: 'STRING' });
    assert.deepEqual(frame.rejections.map((r) => [r.row, r.code]), [[2, 'ROW_SKIPPED'], [1, 'ROW_SKIPPED']]);
    frame.compact();
    assert.deepEqual([...frame.getTyped('xi', 'double').values], [1]);
    assert.deepEqual([...frame.getTyped('yi', 'double').values], [0]);
  });

  it('reads the 2.x `labels` layout', async () => {
    const s = await make('StringIndexerModel', { inputCol: 'cat', outputCol: 'idx' }, [{ labels: ['x', 'y'] }]);
    assert.deepEqual([...(await run(s, [{ cat: 'y' }], { cat: 'STRING' })).getTyped('idx', 'double').values], [1]);
  });

  it('matches numbers and booleans by their string cast, whatever numeric type the labels came from', async () => {
    const idx = async (labels: string[], value: unknown, type: string) => {
      const s = await make('StringIndexerModel', { inputCol: 'v', outputCol: 'i' }, [{ labels }]);
      const frame = await run(s, [{ v: value }], { v: type });
      return frame.rejections.length ? undefined : frame.getTyped('i', 'double').values[0];
    };
    assert.equal(await idx(['1.0', '0.0'], 0, 'DOUBLE'), 1);
    assert.equal(await idx(['7', '3'], 3, 'INTEGER'), 1);
    assert.equal(await idx(['1.0E10', '2.5'], 1e10, 'DOUBLE'), 0);
    assert.equal(await idx(['0.2', '0.1'], 0.1, 'FLOAT'), 1);
    assert.equal(await idx(['false', 'true'], true, 'BOOLEAN'), 1);
    assert.equal(await idx(['1.0'], 2, 'DOUBLE'), undefined);
  });

  it('is skipped when its input column is absent, so label indexers do not block serving', async () => {
    const s = await indexer('error');
    assert.equal(s.skips?.(new Set(['other'])), true);
    assert.equal(s.skips?.(new Set(['cat'])), false);
    assert.deepEqual(new Pipeline([s], ['other']).active, []);
  });

  it('with several input columns, indexes the present ones and writes only their outputs (Spark skips absent columns one by one)', async () => {
    const s = await make('StringIndexerModel', { inputCols: ['cat', 'label'], outputCols: ['catIdx', 'labelIdx'] }, [{ labelsArray: [['b', 'a'], ['yes', 'no']] }]);
    const pipeline = new Pipeline([s], ['cat']);
    assert.deepEqual(pipeline.active, [s]);
    const frame = await pipeline.run(buildFrame([{ cat: 'a' }, { cat: 'b' }], parseInputSchema({ cat: 'STRING' })));
    assert.deepEqual([...frame.getTyped('catIdx', 'double').values], [1, 0]);
    assert.equal(frame.has('labelIdx'), false);
    // A later stage reading the output of the absent column is refused at load, not per batch.
    const reader: Stage = { uid: 'reader', className: 'test.Reader', inputCols: ['labelIdx'], outputCols: [], transform() {} };
    assert.throws(() => new Pipeline([s, reader], ['cat']), /reader \(test\.Reader\) reads "labelIdx"/);
    assert.doesNotThrow(() => new Pipeline([s, reader], ['cat', 'label']));
  });
});

describe('IndexToString', () => {
  const stage = () => make('IndexToString', { inputCol: 'p', outputCol: 'label', labels: ['no', 'yes'] });

  it('maps indices to labels, truncating like Double.toInt (NaN reads as 0)', async () => {
    const frame = await run(await stage(), [{ p: 1 }, { p: 1.9 }, { p: NaN }, { p: -0.5 }, { p: null }], { p: 'DOUBLE?' });
    assert.deepEqual(frame.getTyped('label', 'string').values, ['yes', 'yes', 'no', 'no', null]);
  });

  it('fails rows whose index has no label', async () => {
    const frame = await run(await stage(), [{ p: 2 }, { p: -1 }], { p: 'DOUBLE' });
    assert.deepEqual(frame.rejections.map((r) => r.message), ['Unseen index: 2.0 ?? (column "p")', 'Unseen index: -1.0 ?? (column "p")']);
  });

  it('refuses to load without labels (Spark would read them from column metadata)', async () => {
    await assert.rejects(async () => make('IndexToString', { inputCol: 'p', outputCol: 'l' }), /labels/);
  });
});

describe('OneHotEncoderModel', () => {
  const encode = async (params: Record<string, unknown>, values: (number | null)[]) => {
    const s = await make('OneHotEncoderModel', { inputCols: ['c'], outputCols: ['v'], ...params }, [{ categorySizes: [3] }]);
    const frame = await run(s, values.map((c) => ({ c })), { c: 'DOUBLE?' });
    return { vectors: frame.getTyped('v', 'vector'), rejections: frame.rejections };
  };

  it('drops the last category by default and truncates fractional values', async () => {
    const { vectors } = await encode({}, [0, 2, 1.7, null]);
    assert.equal(vectors.size, 2);
    assert.deepEqual(vectors.values, [sparse(2, [0], [1]), sparse(2, [], []), sparse(2, [1], [1]), null]);
  });

  it('fails unseen, negative and NaN values with handleInvalid=error', async () => {
    const { rejections } = await encode({}, [3, -1, NaN]);
    assert.deepEqual(rejections.map((r) => r.message.split('.')[0]), ['Unseen value: 3', 'Negative value: -1', 'Unseen value: NaN']);
  });

  it('sizes the vector from dropLast and handleInvalid=keep together', async () => {
    const keepDrop = await encode({ handleInvalid: 'keep' }, [2, 5]);
    assert.deepEqual(keepDrop.vectors.values, [sparse(3, [2], [1]), sparse(3, [], [])]);
    const keepAll = await encode({ handleInvalid: 'keep', dropLast: false }, [2, 5]);
    assert.deepEqual(keepAll.vectors.values, [sparse(4, [2], [1]), sparse(4, [3], [1])]);
    const all = await encode({ dropLast: false }, [2]);
    assert.deepEqual(all.vectors.values, [sparse(3, [2], [1])]);
  });

  it('encodes the 7 columns of jaswanth-parking-ohe-linreg in one stage', { skip: skipWithoutFixtures }, async () => {
    const [s] = await loadSparkObject(fixture('jaswanth-parking-ohe-linreg/stages/2_OneHotEncoder_18de3512b040'), registry());
    const record = Object.fromEntries(s!.inputCols.map((c) => [c, 1]));
    const frame = await run(s!, [record], Object.fromEntries(s!.inputCols.map((c) => [c, 'DOUBLE'])));
    const sizes = s!.outputCols.map((c) => frame.getTyped(c, 'vector').size);
    assert.deepEqual(sizes, [99, 994, 99, 12, 31, 16, 5]);
    assert.deepEqual(frame.getTyped(s!.outputCols[0]!, 'vector').values[0], sparse(99, [1], [1]));
  });
});

describe('VectorIndexerModel', { skip: skipWithoutFixtures }, () => {
  // hydro21-vecindexer-dt-idx2str: numFeatures 5, feature 3 ∈ {1, 4, 4.1}, feature 4 ∈ {5, 7}.
  const load = async () => (await loadSparkObject(fixture('hydro21-vecindexer-dt-idx2str/stages/1_vecIdx_220fb6d62982'), registry()))[0]!;
  const index = async (s: Stage, features: unknown[]): Promise<{ out: (Vector | null)[]; frame: Frame }> => {
    const frame = await run(s, features.map((f) => ({ features: f })), { features: 'VECTOR' });
    return { out: frame.getTyped('indexedFeatures', 'vector').values, frame };
  };

  it('replaces categorical values by their category index in dense vectors', async () => {
    const { out } = await index(await load(), [[0.5, 2, 3, 4.1, 7]]);
    assert.deepEqual(out, [Float64Array.of(0.5, 2, 3, 2, 1)]);
  });

  it('leaves a sparse vector’s implicit zeros alone, as Spark does', async () => {
    const { out } = await index(await load(), [{ size: 5, indices: [0, 3], values: [9, 4] }]);
    assert.deepEqual(out, [sparse(5, [0, 3], [9, 1])]);
  });

  it('fails unseen categories and vectors of the wrong size (handleInvalid=error, the 2.1 default)', async () => {
    const { frame } = await index(await load(), [[0, 0, 0, 2, 5], [1, 2, 3]]);
    assert.match(frame.rejections[0]!.message, /invalid value 2\.0 on feature index 3/);
    assert.match(frame.rejections[1]!.message, /expected vector of length 5 but found length 3/);
  });

  it('keeps unseen values as the category count, or skips the row', async () => {
    const data = [{ numFeatures: 2, categoryMaps: { '1': { '0': 0, '2': 1 } } }];
    const keep = await make('VectorIndexerModel', { inputCol: 'features', outputCol: 'indexedFeatures', handleInvalid: 'keep' }, data);
    assert.deepEqual((await index(keep, [[5, 9]])).out, [Float64Array.of(5, 2)]);
    const skip = await make('VectorIndexerModel', { inputCol: 'features', outputCol: 'indexedFeatures', handleInvalid: 'skip' }, data);
    assert.deepEqual((await index(skip, [[5, 9]])).frame.rejections.map((r) => r.code), ['ROW_SKIPPED']);
  });
});

describe('label indexers in real pipelines', { skip: skipWithoutFixtures }, () => {
  it('jpmml33-sentiment-lsvc: the label indexer skips when Score is absent and indexes it when present', async () => {
    const [s] = await loadSparkObject(fixture('jpmml33-sentiment-lsvc/stages/0_StringIndexer_805fe6d42606'), registry());
    assert.equal(s!.skips?.(new Set(['Sentence'])), true);
    const frame = await run(s!, [{ Score: 1 }, { Score: 0 }], { Score: 'INTEGER' });
    assert.deepEqual([...frame.getTyped('scoreIndex', 'double').values], [1, 0]);
  });

  it('chalanis-lyrics-tfidf-lr keeps an unseen genre as index 7; willkent skips an unseen domain', async () => {
    const [chalanis] = await loadSparkObject(fixture('chalanis-lyrics-tfidf-lr/stages/0_StringIndexer_cb8130dc3b07'), registry());
    const kept = await run(chalanis!, [{ genre: 'polka' }, { genre: 'jazz' }], { genre: 'STRING' });
    assert.deepEqual([...kept.getTyped('label', 'double').values], [7, 4]);
    const [willkent] = await loadSparkObject(fixture('willkent-reddit-ohe-rf/stages/0_StringIndexer_26c7c6e15adf'), registry());
    const skipped = await run(willkent!, [{ domain: 'no-such-domain.example' }], { domain: 'STRING' });
    assert.equal(skipped.rejections[0]?.code, 'ROW_SKIPPED');
  });

  it('hydro21-vecindexer-dt-idx2str: IndexToString maps predictions back to "1.0"/"0.0"', async () => {
    const [s] = await loadSparkObject(fixture('hydro21-vecindexer-dt-idx2str/stages/3_idxToStr_0427b6541030'), registry());
    const frame = await run(s!, [{ prediction: 0 }, { prediction: 1 }], { prediction: 'DOUBLE' });
    assert.deepEqual(frame.getTyped('predictedLabel', 'string').values, ['1.0', '0.0']);
  });
});

describe('javaDoubleString', () => {
  it('prints doubles as Java does', () => {
    assert.deepEqual([1, 0.5, -0, 1e7, 1.5e-4, 123456.75, NaN, -Infinity].map(javaDoubleString), ['1.0', '0.5', '-0.0', '1.0E7', '1.5E-4', '123456.75', 'NaN', '-Infinity']);
  });
});
