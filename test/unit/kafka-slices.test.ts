import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { sliceEnd } from '../../runtime/kafka/slices.js';

const records = (sizes: readonly (number | null)[]): { value: Buffer | null }[] => sizes.map((n) => ({ value: n === null ? null : Buffer.alloc(n) }));

/** Every slice of `messages`, as [start, end) pairs, cut the way the runner walks a batch. */
function cut(messages: readonly { value: Buffer | null }[], maxRecords: number, maxBytes: number): [number, number][] {
  const out: [number, number][] = [];
  for (let start = 0; start < messages.length; ) {
    const end = sliceEnd(messages, start, { maxRecords, maxBytes });
    out.push([start, end]);
    start = end;
  }
  return out;
}

test('small records are cut by count, big ones by bytes, and a record over the byte bound is a slice of its own', () => {
  assert.deepEqual(cut(records([10, 10, 10, 10, 10]), 2, 1000), [[0, 2], [2, 4], [4, 5]]);
  assert.deepEqual(cut(records([400, 400, 400, 400]), 100, 1000), [[0, 2], [2, 4]]);
  assert.deepEqual(cut(records([10, 5000, 10, 10]), 100, 1000), [[0, 1], [1, 2], [2, 4]]);
  // Null values count nothing; exactly the byte bound still fits.
  assert.deepEqual(cut(records([null, 500, null, 500, 1]), 100, 1000), [[0, 4], [4, 5]]);
  assert.equal(sliceEnd(records([1, 2]), 2, { maxRecords: 10, maxBytes: 10 }), 2);
});

test('slices cover the batch in order, each within both bounds unless it is one record', () => {
  fc.assert(
    fc.property(fc.array(fc.option(fc.nat(3000), { nil: null }), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 }), (sizes, maxRecords, maxBytes) => {
      const batch = records(sizes);
      const slices = cut(batch, maxRecords, maxBytes);
      let next = 0;
      for (const [start, end] of slices) {
        assert.equal(start, next);
        assert.ok(end > start);
        const bytes = sizes.slice(start, end).reduce<number>((a, n) => a + (n ?? 0), 0);
        assert.ok(end - start <= maxRecords);
        if (end - start > 1) assert.ok(bytes <= maxBytes, `${bytes} bytes in ${end - start} records`);
        // A slice ends early only where the next record would not fit.
        if (end < batch.length && end - start < maxRecords) assert.ok(bytes + (sizes[end] ?? 0) > maxBytes);
        next = end;
      }
      assert.equal(next, batch.length);
    }),
  );
});
