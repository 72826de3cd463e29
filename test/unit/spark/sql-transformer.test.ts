// SQLTransformer, through a saved package as the runtime serves it.
//   node --import tsx --test test/unit/spark/sql-transformer.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { refusal, serve, type SavedStage } from './saved-pipeline.js';

const sql = (statement: string): SavedStage => ({ class: 'feature.SQLTransformer', params: { statement } });

function predictions(outcomes: Outcome[]): unknown[] {
  return outcomes.map((o) => (isRejection(o) ? `rejected: ${o.message}` : o.prediction));
}

describe('SQLTransformer', () => {
  test("the Spark docs example (SELECT *, (v1 + v2) AS v3, (v1 * v2) AS v4 FROM __THIS__) gives the v3 and v4 the docs print", async () => {
    // Spark's docs/ml-features.md, "SQLTransformer": the rows (id 0, v1 1.0, v2 3.0) and (2, 2.0, 5.0)
    // print as  0 | 1.0 | 3.0 | 4.0 | 3.0  and  2 | 2.0 | 5.0 | 7.0 | 10.0  (id | v1 | v2 | v3 | v4).
    // The package's prediction is its last column: v4, or v3 with the items swapped.
    const input = { input_schema: { v1: 'DOUBLE', v2: 'DOUBLE' } };
    const rows = [
      { v1: 1.0, v2: 3.0 },
      { v1: 2.0, v2: 5.0 },
    ];
    assert.deepEqual(predictions(await serve([sql('SELECT *, (v1 + v2) AS v3, (v1 * v2) AS v4 FROM __THIS__')], input, rows)), [3.0, 10.0]);
    assert.deepEqual(predictions(await serve([sql('SELECT *, (v1 * v2) AS v4, (v1 + v2) AS v3 FROM __THIS__')], input, rows)), [4.0, 7.0]);
  });

  test('CONCAT renders INTEGER columns as integers and DOUBLE columns as Java prints doubles; a null operand gives null', async () => {
    // Spark casts INT 8 to "8" and DOUBLE 8.0 to "8.0" (Double.toString), and concat is null when any input is.
    const config = { input_schema: { origin: 'STRING?', cylinders: 'INTEGER', power: 'DOUBLE' } };
    const out = await serve([sql('SELECT *, CONCAT(origin, "/", cylinders, \'/\', power) AS key FROM __THIS__')], config, [
      { origin: '1', cylinders: 8, power: 8 },
      { origin: 'eu', cylinders: 4, power: 0.0001 },
      { origin: null, cylinders: 4, power: 1 },
    ]);
    assert.deepEqual(predictions(out), ['1/8/8.0', 'eu/4/1.0E-4', null]);
  });

  test('division by zero and the logarithm of zero give null, as Spark does outside ANSI mode; INT arithmetic stays integral', async () => {
    const config = { input_schema: { a: 'INTEGER', b: 'INTEGER' } };
    const run = async (expr: string) => predictions(await serve([sql(`SELECT ${expr} AS x FROM __THIS__`)], config, [{ a: 7, b: 0 }, { a: 7, b: 2 }]));
    assert.deepEqual(await run('a / b'), [null, 3.5]);
    assert.deepEqual(await run('a % b'), [null, 1]);
    assert.deepEqual(await run('LN(b)'), [null, Math.log(2)]);
    assert.deepEqual(await run('CONCAT(a * b, "")'), ['0', '14']);
    assert.deepEqual(await run('CONCAT(CAST(a AS DOUBLE) * b, "")'), ['0.0', '14.0']);
  });

  test('a SELECT without * keeps only the columns it names; column names match ignoring case, as in Spark', async () => {
    const stages = [sql('SELECT V1, v2 * 2D AS w FROM __THIS__'), sql('SELECT *, v1 + w AS z FROM __THIS__')];
    const out = await serve(stages, { input_schema: { v1: 'DOUBLE', v2: 'DOUBLE' } }, [{ v1: 1, v2: 3 }]);
    assert.deepEqual(predictions(out), [7]);
    const dropped = await refusal([sql('SELECT v1 FROM __THIS__'), sql('SELECT *, v2 AS again FROM __THIS__')], { input_schema: { v1: 'DOUBLE', v2: 'DOUBLE' } });
    assert.match(dropped, /column "v2" does not exist/);
  });

  test('statements outside the supported subset refuse the package, naming the statement and what is unsupported', async () => {
    const config = { input_schema: { a: 'DOUBLE' } };
    const cases: [string, RegExp][] = [
      ['SELECT * FROM __THIS__ WHERE a > 1', /"WHERE" after FROM __THIS__/],
      ['SELECT *, soundex(a) AS s FROM __THIS__', /the function soundex/],
      ['SELECT *, a * 1.5 AS s FROM __THIS__', /DECIMAL literal 1\.5 \(write 1\.5D for a DOUBLE\)/],
      ['SELECT *, a + 1 FROM __THIS__', /an expression without AS <name>/],
      ['SELECT a FROM other', /"other" where __THIS__ was expected/],
    ];
    for (const [statement, why] of cases) {
      const message = await refusal([sql(statement)], config);
      assert.ok(message.includes(JSON.stringify(statement)), `names the statement: ${message}`);
      assert.match(message, why);
    }
  });
});
