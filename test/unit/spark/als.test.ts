// ALSModel: the float32 dot product of the saved user and item factors, and the cold-start
// strategies, checked against a real Spark 3.5.0 export and its outputs.
//   node --import tsx --test test/unit/spark/als.test.ts
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCodes } from '../../../runtime/errors.js';
import { readCsv } from '../../conformance/csv.js';
import { isRejection } from '../../conformance/types.js';
import { catalogueFixture, loadCatalogueFixture, skipWithoutCatalogue } from './catalogue-package.js';

const FIXTURE = 'sree-movielens-als';
const CONFIG = { input_schema: { userId: 'INTEGER', movieId: 'INTEGER' } };
/** An id no MovieLens user or movie has, so the pair is cold. */
const UNKNOWN = 987654321;

describe('ALSModel', { skip: skipWithoutCatalogue }, () => {
  test('sree-movielens-als: all 5000 sample predictions equal Spark 3.5.0 outputs exactly as float32', async () => {
    const input = readCsv(join(catalogueFixture(FIXTURE), 'sample/input-test-uncapped-first5000.csv'));
    const expected = readCsv(join(catalogueFixture(FIXTURE), 'sample/expected-test-uncapped-first5000.csv'));
    assert.deepEqual(input.header, ['userId', 'movieId']);
    assert.equal(expected.header[0], 'prediction');
    const served = await loadCatalogueFixture(FIXTURE, CONFIG);
    try {
      const outputs = await served.run(input.rows.map(([u, m]) => ({ userId: Number(u), movieId: Number(m) })));
      const mismatches = outputs
        .map((o, i) => ({ i, got: isRejection(o) ? o.message : o.prediction, want: Number(expected.rows[i]![0]) }))
        // The CSV prints 16 significant digits, not always enough to round-trip a double,
        // but always enough to name one float32: Spark's FLOAT prediction.
        .filter(({ got, want }) => typeof got !== 'number' || Math.fround(got) !== got || Math.fround(want) !== got);
      assert.equal(outputs.length, 5000);
      assert.deepEqual(mismatches.slice(0, 5), []);
    } finally {
      await served.close();
    }
  });

  test('coldStartStrategy=drop (as saved): an unknown user or movie is a COLD_START error record naming the missing id', async () => {
    const served = await loadCatalogueFixture(FIXTURE, CONFIG);
    try {
      const [known, coldItem, coldBoth] = await served.run([
        { userId: 27, movieId: 2142 },
        { userId: 27, movieId: UNKNOWN },
        { userId: UNKNOWN, movieId: UNKNOWN },
      ]);
      assert.equal((known as { prediction: number }).prediction, Math.fround(1.874259114265442));
      assert.deepEqual(coldItem, { rejected: ErrorCodes.COLD_START, message: `ALSModel: no factors for movieId ${UNKNOWN}; coldStartStrategy=drop would drop the row` });
      assert.ok(isRejection(coldBoth) && coldBoth.message.includes(`userId ${UNKNOWN} and movieId ${UNKNOWN}`), JSON.stringify(coldBoth));
    } finally {
      await served.close();
    }
  });

  test('coldStartStrategy=nan: a cold pair gets a null prediction (Spark: NaN) and known pairs are unchanged', async () => {
    const metaFile = join(catalogueFixture(FIXTURE), 'metadata/part-00000');
    const metadata = JSON.parse(readFileSync(metaFile, 'utf8')) as { paramMap: Record<string, unknown> };
    metadata.paramMap.coldStartStrategy = 'nan';
    const nanVariant = await loadCatalogueFixture(FIXTURE, CONFIG, (copy) => writeFileSync(join(copy, 'metadata/part-00000'), JSON.stringify(metadata)));
    try {
      const outputs = await nanVariant.run([{ userId: 27, movieId: UNKNOWN }, { userId: 27, movieId: 2142 }]);
      assert.deepEqual(outputs, [{ prediction: null }, { prediction: Math.fround(1.874259114265442) }]);
    } finally {
      await nanVariant.close();
    }
  });

  test('a user id with a fraction fails the row with Spark\'s message; the batch goes on', async () => {
    const served = await loadCatalogueFixture(FIXTURE, { input_schema: { userId: 'DOUBLE', movieId: 'INTEGER' } });
    try {
      const [bad, good] = await served.run([{ userId: 27.5, movieId: 2142 }, { userId: 27, movieId: 2142 }]);
      assert.ok(isRejection(bad) && bad.rejected === ErrorCodes.PIPELINE_ERROR, JSON.stringify(bad));
      assert.match(bad.message, /ALS only supports non-Null values in Integer range and without fractional part for column userId, but got 27.5/);
      assert.deepEqual(good, { prediction: Math.fround(1.874259114265442) });
    } finally {
      await served.close();
    }
  });
});
