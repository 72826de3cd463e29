// SQLTransformer, through a saved package as the runtime serves it.
//   node --import tsx --test test/unit/spark/sql-transformer.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { refusal, serve, type SavedStage } from './saved-pipeline.js';

const sql = (statement: string, sparkVersion?: string): SavedStage => ({ class: 'feature.SQLTransformer', params: { statement }, ...(sparkVersion ? { sparkVersion } : {}) });

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

  test('INT arithmetic wraps around 32 bits in a Spark 3.x save, as Java ints do with ANSI mode off', async () => {
    // Spark's docs (sql-ref-ansi-compliance.md): with spark.sql.ansi.enabled false, integral
    // overflow is not an error and the result wraps, e.g. 2147483647 + 1 = -2147483648.
    const out = await serve([sql('SELECT a + 1 AS up, a * 2 AS twice FROM __THIS__', '3.5.1')], { input_schema: { a: 'INTEGER' } }, [{ a: 2147483647 }]);
    assert.deepEqual(predictions(out), [-2]);
  });

  test('a Spark 4 save runs in ANSI mode, its default: division by zero, overflow and a bad cast fail that record alone', async () => {
    const config = { input_schema: { a: 'INTEGER', b: 'INTEGER', s: 'STRING' } };
    const rows = [{ a: 7, b: 2, s: '1.5' }, { a: 7, b: 0, s: '1' }, { a: 2147483647, b: 1, s: '1' }, { a: 1, b: 1, s: 'x' }];
    const out = await serve([sql('SELECT *, a / b AS q, a + b AS t, s + 0D AS f FROM __THIS__', '4.0.0')], config, rows);
    assert.deepEqual(out[0] && !isRejection(out[0]) ? out[0].prediction : out[0], 1.5);
    const reasons = out.slice(1).map((o) => (isRejection(o) ? `${o.rejected}: ${o.message}` : 'predicted'));
    assert.match(reasons[0]!, /^PIPELINE_ERROR: SQLTransformer: division by zero/);
    assert.match(reasons[1]!, /^PIPELINE_ERROR: SQLTransformer: INT \+ overflows/);
    assert.match(reasons[2]!, /^PIPELINE_ERROR: SQLTransformer: the string 'x' cannot be cast to a number/);
    const lenient = await serve([sql('SELECT *, a / b AS q, a + b AS t, s + 0D AS f FROM __THIS__', '3.5.1')], config, rows);
    assert.deepEqual(predictions(lenient), [1.5, 1, 1, null]);
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
