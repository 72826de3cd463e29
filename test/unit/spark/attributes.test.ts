// ML attributes carried between stages, and the stages that read them (Interaction,
// VectorSlicer), through saved packages served as the runtime serves them.
//   node --import tsx --test test/unit/spark/attributes.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupAttributes } from '../../../runtime/pipeline/attributes.js';
import { loadPackage } from '../../../runtime/packages/package.js';
import { dbl } from '../../../scripts/examples/spark-writer.js';
import { sparkRegistry } from '../../conformance/runner.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { skipWithoutFixtures } from '../../helpers/fixtures.js';
import { tempDir, writeFixturePackage } from '../../helpers/packages.js';
import { intArrayColumn, labelsArrayColumn, loaded, refusal, serve, type SavedStage } from './saved-pipeline.js';

const indexer = (input: string, output: string, labels: string[], handleInvalid = 'error'): SavedStage => ({
  class: 'feature.StringIndexerModel',
  params: { inputCol: input, outputCol: output, handleInvalid },
  data: [labelsArrayColumn([labels])],
});
const bucketizer = (input: string, output: string, splits: number[], handleInvalid = 'error'): SavedStage => ({
  class: 'feature.Bucketizer',
  params: { inputCol: input, outputCol: output, splits: splits.map((s) => (Number.isFinite(s) ? dbl(s) : s > 0 ? 'Infinity' : '-Infinity')), handleInvalid },
});
const assembler = (inputs: string[], output: string): SavedStage => ({ class: 'feature.VectorAssembler', params: { inputCols: inputs, outputCol: output, handleInvalid: 'error' } });
const interaction = (inputs: string[], output = 'features'): SavedStage => ({ class: 'feature.Interaction', params: { inputCols: inputs, outputCol: output } });

/** The package's output per record: the last column's vector (feature-only packages), or the rejection. */
function vectors(outcomes: Outcome[]): unknown[] {
  return outcomes.map((o) => (isRejection(o) ? { rejected: o.rejected, message: o.message } : o.prediction));
}

describe("Interaction reads its inputs' ML attributes", () => {
  // Expected vectors below are Spark's own: InteractionSuite.scala ("numeric interaction",
  // "nominal interaction", "default attr names"), whose input attributes the stages in front
  // of the Interaction reproduce here.
  test('numeric interaction (InteractionSuite): a number times a vector of two numeric features', async () => {
    const stages = [assembler(['foo', 'bar'], 'b'), interaction(['a', 'b'])];
    const config = { input_schema: { a: 'INTEGER', foo: 'DOUBLE', bar: 'DOUBLE' } };
    const out = await serve(stages, config, [{ a: 2, foo: 3, bar: 4 }, { a: 1, foo: 1, bar: 5 }]);
    assert.deepEqual(vectors(out), [[6, 8], [1, 5]]);
    const names = await loaded(stages, config, (m) => groupAttributes(m.pipeline.attributes.get('features'))?.map((x) => x.name));
    assert.deepEqual(names, ['a:b_foo', 'a:b_bar']);
  });

  test('nominal interaction (InteractionSuite): an indexed column with values up, down, left is one-hot expanded into 3 blocks', async () => {
    const stages = [indexer('direction', 'a', ['up', 'down', 'left']), assembler(['foo', 'bar'], 'b'), interaction(['a', 'b'])];
    const config = { input_schema: { direction: 'STRING', foo: 'DOUBLE', bar: 'DOUBLE' } };
    const out = await serve(stages, config, [{ direction: 'left', foo: 3, bar: 4 }, { direction: 'down', foo: 1, bar: 5 }]);
    assert.deepEqual(vectors(out), [[0, 0, 0, 0, 3, 4], [0, 0, 1, 5, 0, 0]]);
    const names = await loaded(stages, config, (m) => groupAttributes(m.pipeline.attributes.get('features'))?.map((x) => x.name));
    assert.deepEqual(names, ['a_up:b_foo', 'a_up:b_bar', 'a_down:b_foo', 'a_down:b_bar', 'a_left:b_foo', 'a_left:b_bar']);
  });

  test('default attr names (InteractionSuite): a bucketized column, a vector holding a bucketized and a numeric feature, and a number', async () => {
    // a: 3 buckets; b: [bucket of 2, numeric]; c: numeric. Rows (a=2, b=[0, 4], c=1) and (a=1, b=[1, 5], c=10).
    // b=[0, 4] is dense, so its nominal 0 is active and lands in slot 0, as in the suite.
    const stages = [bucketizer('x', 'a', [0, 1, 2, 3]), bucketizer('y', 'b0', [-Infinity, 0.5, Infinity]), assembler(['b0', 'z'], 'b'), interaction(['a', 'b', 'c'])];
    const config = { input_schema: { x: 'DOUBLE', y: 'DOUBLE', z: 'DOUBLE', c: 'DOUBLE' } };
    const out = await serve(stages, config, [{ x: 2.5, y: 0, z: 4, c: 1 }, { x: 1.5, y: 1, z: 5, c: 10 }]);
    assert.deepEqual(vectors(out), [[0, 0, 0, 0, 0, 0, 1, 0, 4], [0, 0, 0, 0, 10, 50, 0, 0, 0]]);
  });

  // Every ordered pair of a bucketized (3 buckets), an indexed (labels x, y) and a numeric
  // input, on one row: bucket 2, index 1, value 2.5. Spark's FeatureEncoder makes bucket 2 of
  // 3 the block [0, 0, 1] and index 1 of 2 the block [0, 1] (InteractionSuite "feature
  // encoder": encode(Array(3), 1) is [0, 1, 0]); a number is itself. The product puts the
  // first input's block outermost.
  const BLOCKS: Record<string, { col: string; block: number[] }> = {
    bucketized: { col: 'bucket', block: [0, 0, 1] },
    indexed: { col: 'index', block: [0, 1] },
    numeric: { col: 'number', block: [2.5] },
  };
  const front = [bucketizer('raw', 'bucket', [0, 10, 20, 30]), indexer('label', 'index', ['x', 'y'])];
  const config = { input_schema: { raw: 'DOUBLE', label: 'STRING', number: 'DOUBLE' } };
  const row = { raw: 25, label: 'y', number: 2.5 };
  const expected: Record<string, number[]> = {
    'bucketized × bucketized': [0, 0, 0, 0, 0, 0, 0, 0, 1],
    'bucketized × indexed': [0, 0, 0, 0, 0, 1],
    'bucketized × numeric': [0, 0, 2.5],
    'indexed × bucketized': [0, 0, 0, 0, 0, 1],
    'indexed × indexed': [0, 0, 0, 1],
    'indexed × numeric': [0, 2.5],
    'numeric × bucketized': [0, 0, 2.5],
    'numeric × indexed': [0, 2.5],
    'numeric × numeric': [6.25],
    'bucketized × indexed × numeric': [0, 0, 0, 0, 0, 2.5],
  };
  for (const [pair, want] of Object.entries(expected)) {
    test(`${pair}: nominal inputs are one-hot blocks, numbers are themselves`, async () => {
      const cols = pair.split(' × ').map((kind) => BLOCKS[kind]!.col);
      const [out] = await serve([...front, interaction(cols)], config, [row]);
      assert.deepEqual(vectors([out!]), [want]);
    });
  }

  test('a nominal value outside its values (Bucketizer keep puts NaN in bucket 3 of 3) fails that record alone, as Spark asserts indices', async () => {
    const stages = [bucketizer('raw', 'bucket', [0, 10, 20, 30], 'keep'), interaction(['bucket', 'number'])];
    const out = await serve(stages, { input_schema: { raw: 'DOUBLE?', number: 'DOUBLE' } }, [{ raw: null, number: 1 }, { raw: 5, number: 2 }]);
    assert.ok(isRejection(out[0]) && out[0].rejected === 'PIPELINE_ERROR');
    assert.match(out[0].message, /must be indices below 3, got 3\.0/);
    assert.deepEqual(vectors([out[1]!]), [[2, 0, 0]]);
  });

  test('a multi-column Bucketizer marks every output nominal: its two outputs interact as blocks of 3 and 2', async () => {
    const buckets: SavedStage = {
      class: 'feature.Bucketizer',
      params: { inputCols: ['p', 'q'], outputCols: ['pb', 'qb'], splitsArray: [[dbl(0), dbl(1), dbl(2), dbl(3)], ['-Infinity', dbl(0), 'Infinity']], handleInvalid: 'error' },
    };
    const out = await serve([buckets, interaction(['pb', 'qb'])], { input_schema: { p: 'DOUBLE', q: 'DOUBLE' } }, [{ p: 1.5, q: 7 }]);
    // p in bucket 1 of 3, q in bucket 1 of 2: the 1 sits at 1 · 2 + 1.
    assert.deepEqual(vectors(out), [[0, 0, 0, 1, 0, 0]]);
  });

  test('an indexed column renamed by SQLTransformer keeps its attributes, as a Spark alias keeps metadata', async () => {
    const stages = [indexer('label', 'index', ['x', 'y', 'z']), { class: 'feature.SQLTransformer', params: { statement: 'SELECT *, index AS renamed FROM __THIS__' } }, interaction(['renamed', 'number'])];
    const out = await serve(stages, { input_schema: { label: 'STRING', number: 'DOUBLE' } }, [{ label: 'z', number: 4 }]);
    assert.deepEqual(vectors(out), [[0, 0, 4]]);
  });

  test('an indexed column left in front of a tree no longer widens the vector wrongly: one slot per label, not one per row value', async () => {
    // The failure: a tree reading feature 75 of a 27-wide vector. With 30 labels the
    // Interaction of index × number is 30 wide, whatever index a row has.
    const labels = Array.from({ length: 30 }, (_, i) => `l${i}`);
    const out = await serve([indexer('label', 'index', labels), interaction(['index', 'number'])], { input_schema: { label: 'STRING', number: 'DOUBLE' } }, [
      { label: 'l0', number: 3 },
      { label: 'l29', number: 3 },
    ]);
    assert.deepEqual(
      (out as { prediction: number[] }[]).map((o) => [o.prediction.length, o.prediction.indexOf(3)]),
      [
        [30, 0],
        [30, 29],
      ],
    );
  });
});

describe('attributes through OneHotEncoder and VectorAssembler, read by VectorSlicer', () => {
  test('the Spark docs VectorSlicer example: features f1, f2, f3, indices [1] and names ["f3"] give [10.0, 0.5]', async () => {
    // docs/ml-features.md, VectorSlicer: userFeatures [0.0, 10.0, 0.5] with attributes f1, f2, f3;
    // setIndices(1) and setNames("f3") print features [10.0, 0.5]. Here the names come from a
    // VectorAssembler of columns f1, f2, f3, which names its features after them.
    const stages = [assembler(['f1', 'f2', 'f3'], 'userFeatures'), { class: 'feature.VectorSlicer', params: { inputCol: 'userFeatures', outputCol: 'features', indices: [1], names: ['f3'] } }];
    const out = await serve(stages, { input_schema: { f1: 'DOUBLE', f2: 'DOUBLE', f3: 'DOUBLE' } }, [{ f1: 0, f2: 10, f3: 0.5 }]);
    assert.deepEqual(vectors(out), [[10, 0.5]]);
  });

  test('the Spark docs VectorSlicer example by index: sparse (3,[0,1],[-2.0,2.3]) and dense [-2.0,2.3,0.0] both slice to [2.3]', async () => {
    const stages = [{ class: 'feature.VectorSlicer', params: { inputCol: 'userFeatures', outputCol: 'features', indices: [1], names: [] } }];
    const out = await serve(stages, { input_schema: { userFeatures: 'VECTOR' } }, [{ userFeatures: { size: 3, indices: [0, 1], values: [-2, 2.3] } }, { userFeatures: [-2, 2.3, 0] }]);
    assert.deepEqual(vectors(out), [[2.3], [2.3]]);
  });

  test("one-hot features are named <column>_<label> after the StringIndexer's labels, less the last with dropLast", async () => {
    // OneHotEncoderModel names its binary features by the input's nominal values; VectorAssembler
    // prefixes a vector's feature names with the column name (Spark's transformSchema of each).
    const stages = [
      indexer('colour', 'colourIndex', ['red', 'green', 'blue']),
      { class: 'feature.OneHotEncoderModel', params: { inputCols: ['colourIndex'], outputCols: ['colourVec'], dropLast: true, handleInvalid: 'error' }, data: [intArrayColumn('categorySizes', [[3]])] },
      assembler(['colourVec', 'size'], 'features'),
      { class: 'feature.VectorSlicer', params: { inputCol: 'features', outputCol: 'picked', indices: [], names: ['size', 'colourVec_green'] } },
    ];
    const config = { input_schema: { colour: 'STRING', size: 'DOUBLE' } };
    const names = await loaded(stages, config, (m) => groupAttributes(m.pipeline.attributes.get('features'))?.map((a) => `${a.kind} ${a.name}`));
    assert.deepEqual(names, ['binary colourVec_red', 'binary colourVec_green', 'numeric size']);
    const out = await serve(stages, config, [{ colour: 'green', size: 7 }, { colour: 'blue', size: 8 }]);
    assert.deepEqual(vectors(out), [[7, 1], [8, 0]]);
  });

  test("a number SQLTransformer computes is a named numeric feature once assembled, so VectorSlicer finds it by name", async () => {
    const stages = [
      { class: 'feature.SQLTransformer', params: { statement: 'SELECT *, v * 2D AS w FROM __THIS__' } },
      assembler(['v', 'w'], 'vw'),
      { class: 'feature.VectorSlicer', params: { inputCol: 'vw', outputCol: 'picked', indices: [], names: ['w'] } },
    ];
    assert.deepEqual(vectors(await serve(stages, { input_schema: { v: 'DOUBLE' } }, [{ v: 3 }])), [[6]]);
  });

  test('VectorSlicer names that the attributes do not hold refuse the package, naming them', async () => {
    const stages = [assembler(['f1', 'f2'], 'v'), { class: 'feature.VectorSlicer', params: { inputCol: 'v', outputCol: 'out', indices: [], names: ['f2', 'f9', 'g'] } }];
    const message = await refusal(stages, { input_schema: { f1: 'DOUBLE', f2: 'DOUBLE' } });
    assert.match(message, /the attributes of column "v" do not name 2 of them: f9, g$/);
  });

  test('VectorIndexerModel marks a feature with 2 categories binary and one with 3 nominal, so Interaction expands only the second', async () => {
    // VectorIndexerModel.prepOutputField: 2 values → BinaryAttribute, more → NominalAttribute.
    const categoryMaps = { 0: { 0: 0, 5: 1 }, 1: { 1: 0, 2: 1, 3: 2 } };
    const vectorIndexer: SavedStage = {
      class: 'feature.VectorIndexerModel',
      params: { inputCol: 'raw', outputCol: 'indexed', handleInvalid: 'error' },
      extra: async (dir) => {
        const { writeData, int32Column } = await import('../../../scripts/examples/spark-writer.js');
        await writeData(dir, [int32Column('numFeatures', [2]), categoryMapsColumn(categoryMaps)]);
      },
    };
    const stages = [assembler(['a', 'b'], 'raw'), vectorIndexer, interaction(['indexed'])];
    const out = await serve(stages, { input_schema: { a: 'DOUBLE', b: 'DOUBLE' } }, [{ a: 5, b: 3 }]);
    // a=5 is category 1 of a binary feature: the value 1 itself; b=3 is category 2 of 3: block [0, 0, 1].
    assert.deepEqual(vectors(out), [[1, 0, 0, 1]]);
  });
});

describe('RFormula attributes (fixture)', { skip: skipWithoutFixtures }, () => {
  test("VectorAttributeRewriter renames the assembled features after the formula's columns: no generated onehot_/stridx_ prefix is left", async () => {
    const dir = writeFixturePackage(tempDir(), 'jpmml35-auto-sql-rformula-linreg', {
      input_schema: { displacement: 'DOUBLE', horsepower: 'INTEGER', weight: 'INTEGER', acceleration: 'DOUBLE', cylinders: 'STRING', model_year: 'STRING', origin: 'STRING' },
    });
    const model = await loadPackage(dir, sparkRegistry());
    try {
      const names = groupAttributes(model.pipeline.attributes.get('featureVector'))!.map((a) => a.name!);
      const terms = ['displacement', 'horsepower', 'weight', 'acceleration', 'cylinders_', 'model_year_', 'origin_', 'origin_cylinders_'];
      assert.ok(names.length > 4);
      for (const name of names) {
        assert.ok(terms.some((t) => name === t || (t.endsWith('_') && name.startsWith(t))), name);
        assert.doesNotMatch(name, /onehot_|stridx_/);
      }
    } finally {
      await model.pipeline.dispose();
    }
  });
});

/** VectorIndexerModel's `categoryMaps` column: map<int, map<double, int>>. */
function categoryMapsColumn(maps: Record<number, Record<number, number>>) {
  return {
    name: 'categoryMaps',
    data: [new Map(Object.entries(maps).map(([f, m]) => [Number(f), new Map(Object.entries(m).map(([v, i]) => [Number(v), i]))]))],
    schema: [
      { name: 'categoryMaps', repetition_type: 'OPTIONAL' as const, num_children: 1, converted_type: 'MAP' as const },
      { name: 'key_value', repetition_type: 'REPEATED' as const, num_children: 2 },
      { name: 'key', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
      { name: 'value', repetition_type: 'OPTIONAL' as const, num_children: 1, converted_type: 'MAP' as const },
      { name: 'key_value', repetition_type: 'REPEATED' as const, num_children: 2 },
      { name: 'key', type: 'DOUBLE' as const, repetition_type: 'REQUIRED' as const },
      { name: 'value', type: 'INT32' as const, repetition_type: 'REQUIRED' as const },
    ],
    sparkType: { type: 'map', keyType: 'integer', valueType: { type: 'map', keyType: 'double', valueType: 'integer', valueContainsNull: false }, valueContainsNull: true },
    nullable: true,
  };
}
