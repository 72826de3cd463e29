import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CsvParser, csvValue } from '../../../runtime/produce/csv.js';

function parse(chunks: string[]): { rows: string[][]; ends: number[] } {
  const rows: string[][] = [];
  const ends: number[] = [];
  const parser = new CsvParser((fields, end) => {
    rows.push(fields);
    ends.push(end);
  });
  for (const c of chunks) parser.push(c);
  parser.end();
  return { rows, ends };
}

/** RFC 4180 writing: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
function writeCsv(rows: string[][], eol: string): string {
  return rows.map((r) => r.map((f) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f)).join(',')).join(eol) + eol;
}

test('quoted fields hold commas, doubled quotes and line breaks; CRLF ends a record; a blank line is no record', () => {
  const text = 'a,b,c\r\n"x, y","say ""hi""","multi\nline"\r\n\r\nplain,"",3\nlast,no,newline';
  const { rows, ends } = parse([text]);
  assert.deepEqual(rows, [
    ['a', 'b', 'c'],
    ['x, y', 'say "hi"', 'multi\nline'],
    ['plain', '', '3'],
    ['last', 'no', 'newline'],
  ]);
  assert.equal(ends.at(-1), text.length);
  assert.equal(ends[0], 'a,b,c\r\n'.length);
});

test('a quote inside an unquoted field is literal, as Spark reads it', () => {
  assert.deepEqual(parse(['5" screen,ok\n']).rows, [['5" screen', 'ok']]);
});

test('an unterminated quoted field is an error at the end of input', () => {
  assert.throws(() => parse(['a,"open\n']), /ends inside a quoted field/);
});

test('any table survives writing and reading back, however the text is split into chunks', () => {
  const field = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '😀') , maxLength: 8 });
  const table = fc.integer({ min: 1, max: 4 }).chain((width) => fc.array(fc.array(field, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 6 }));
  fc.assert(
    fc.property(table, fc.constantFrom('\n', '\r\n'), fc.array(fc.nat(), { maxLength: 5 }), (rows, eol, cuts) => {
      const text = writeCsv(rows, eol);
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const chunks = [0, ...points].map((p, k, all) => text.slice(p, all[k + 1] ?? text.length));
      // A row of one empty field is written as "" and so is a record, not a blank line.
      assert.deepEqual(parse(chunks).rows, rows);
    }),
  );
});

test('cells take their input_schema type; what does not parse stays text for the runtime to report', () => {
  const f = (type: string, nullable = false) => ({ name: 'c', type: type as never, nullable });
  assert.equal(csvValue('4.25', f('DOUBLE')), 4.25);
  assert.equal(csvValue('1e3', f('FLOAT')), 1000);
  assert.equal(csvValue('abc', f('DOUBLE')), 'abc');
  assert.equal(csvValue('NaN', f('DOUBLE')), 'NaN');
  assert.equal(csvValue(' 42 ', f('INTEGER')), 42);
  assert.equal(csvValue('4.5', f('INTEGER')), '4.5');
  assert.equal(csvValue('12345678901234567890', f('LONG')), '12345678901234567890');
  assert.equal(csvValue('TRUE', f('BOOLEAN')), true);
  assert.equal(csvValue('0', f('BOOLEAN')), false);
  assert.deepEqual(csvValue('["a","b"]', f('ARRAY<STRING>')), ['a', 'b']);
  assert.deepEqual(csvValue('[1,2.5]', f('VECTOR')), [1, 2.5]);
  assert.equal(csvValue('', f('DOUBLE', true)), null);
  assert.equal(csvValue('', f('STRING')), '');
  assert.equal(csvValue('', f('STRING', true)), null);
  assert.equal(csvValue('007', undefined), '007');
});
