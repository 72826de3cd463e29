import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RECYCLED_FRAME_BYTES, fetchMemory, leaseBatches, releaseBatch, responseBuffer } from '../../runtime/kafka/fetch-memory.js';

/*
 * Fetch responses the runtime recycles itself (runtime/kafka/fetch-memory.ts): a response's
 * memory is read into again only after the last batch whose records view it is released,
 * never before, and memory no fetch leased is never recycled.
 */

type Batch = { messages: Array<{ key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }> };

/** Takes every buffer the free list holds, so a test starts from an empty one. */
function drainFreeList(): void {
  for (;;) {
    const before = fetchMemory.reused;
    responseBuffer(RECYCLED_FRAME_BYTES);
    if (fetchMemory.reused === before) return;
  }
}

/** Whether the next response of `size` bytes is read into `memory` (taking it off the free list if so). */
function nextIsIn(memory: SharedArrayBuffer, size = RECYCLED_FRAME_BYTES): boolean {
  return responseBuffer(size).buffer === memory;
}

test('large responses go into shared memory, small ones into ordinary buffers', () => {
  const large = responseBuffer(RECYCLED_FRAME_BYTES);
  assert.equal(large.length, RECYCLED_FRAME_BYTES);
  assert.ok(large.buffer instanceof SharedArrayBuffer);
  const small = responseBuffer(RECYCLED_FRAME_BYTES - 1);
  assert.ok(!(small.buffer instanceof SharedArrayBuffer));
});

test('a response two batches read is recycled after the second is released; a header view counts; releasing twice does nothing', () => {
  drainFreeList();
  const r1 = responseBuffer(128 * 1024);
  const r2 = responseBuffer(128 * 1024);
  r1.fill(1);
  const a: Batch = { messages: [{ key: r1.subarray(0, 4), value: r1.subarray(4, 100), headers: {} }] };
  // b views r1 by its value and r2 only through a header (a record with a null key and value would too).
  const b: Batch = { messages: [{ key: null, value: r1.subarray(200, 300), headers: { h: [Buffer.from('x'), r2.subarray(0, 10)] } }] };
  const empty: Batch = { messages: [] };
  const releasedBefore = fetchMemory.released;
  leaseBatches([a, b, empty]);

  releaseBatch(a);
  assert.equal(nextIsIn(r1.buffer as SharedArrayBuffer), false, 'b still reads r1');
  assert.equal(nextIsIn(r2.buffer as SharedArrayBuffer), false, 'b still reads r2');
  assert.equal(b.messages[0]!.value![0], 1);
  releaseBatch(b);
  assert.equal(fetchMemory.released - releasedBefore, 2);
  const next = [responseBuffer(128 * 1024), responseBuffer(128 * 1024)].map((x) => x.buffer);
  assert.ok(next.includes(r1.buffer) && next.includes(r2.buffer), 'both are read into again');
  releaseBatch(b);
  releaseBatch(empty);
  assert.equal(fetchMemory.released - releasedBefore, 2);
});

test('memory no fetch leased, or whose batch was never handed out, is not recycled; nor is memory that is not a response\'s', () => {
  drainFreeList();
  const unleased = responseBuffer(128 * 1024);
  const kept = responseBuffer(128 * 1024);
  const handedOut: Batch = { messages: [{ key: null, value: kept.subarray(0, 10) }] };
  const neverHandedOut: Batch = { messages: [{ key: null, value: kept.subarray(10, 20) }] };
  leaseBatches([handedOut, neverHandedOut]);
  releaseBatch(handedOut);
  releaseBatch({ messages: [{ key: null, value: unleased.subarray(0, 10) }] });
  const own = new SharedArrayBuffer(RECYCLED_FRAME_BYTES * 2);
  const ownBatch: Batch = { messages: [{ key: null, value: Buffer.from(own, 0, 100) }] };
  leaseBatches([ownBatch]);
  releaseBatch(ownBatch);
  for (let i = 0; i < 3; i++) {
    const next = responseBuffer(RECYCLED_FRAME_BYTES).buffer;
    assert.ok(next !== kept.buffer && next !== unleased.buffer && next !== own);
  }
});

test('a free buffer is only read into by a response it holds; the free list is bounded', () => {
  drainFreeList();
  const small = responseBuffer(RECYCLED_FRAME_BYTES);
  const batch: Batch = { messages: [{ key: null, value: small.subarray(0, 1) }] };
  leaseBatches([batch]);
  releaseBatch(batch);
  const bigger = responseBuffer(small.buffer.byteLength + 1);
  assert.notEqual(bigger.buffer, small.buffer, 'too small for it');
  assert.equal(nextIsIn(small.buffer as SharedArrayBuffer, 100_000), true);
  // More released at once than the list keeps: the rest are left to the GC.
  drainFreeList();
  const many = Array.from({ length: 10 }, () => responseBuffer(RECYCLED_FRAME_BYTES));
  const batches = many.map((m) => ({ messages: [{ key: null, value: m.subarray(0, 1) }] }));
  leaseBatches(batches);
  for (const b of batches) releaseBatch(b);
  const before = fetchMemory.reused;
  drainFreeList();
  const kept = fetchMemory.reused - before;
  assert.ok(kept >= 1 && kept <= 4, `${kept} kept`);
});

test('property: over random fetches and release orders, memory is read into again only once its last batch is released', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      // Each batch: the responses (by index) its records view.
      fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
      fc.func(fc.integer()),
      (responses, batchViews, order) => {
        drainFreeList();
        const memory = Array.from({ length: responses }, () => responseBuffer(RECYCLED_FRAME_BYTES));
        const batches: Batch[] = batchViews.map((views) => ({
          messages: views.filter((r) => r < responses).map((r, i) => ({ key: null, value: memory[r]!.subarray(i, i + 8) })),
        }));
        leaseBatches(batches);
        const pending = batches.map((_, i) => i).sort((x, y) => order(x) - order(y) || x - y);
        const readBy = (r: number, left: readonly number[]): boolean => left.some((i) => batches[i]!.messages.some((m) => m.value!.buffer === memory[r]!.buffer));
        const leased = memory.map((_, r) => readBy(r, pending));
        for (let k = 0; k < pending.length; k++) {
          releaseBatch(batches[pending[k]!]!);
          const left = pending.slice(k + 1);
          // Whatever the next response is read into is memory no pending batch reads, and was leased.
          const next = responseBuffer(RECYCLED_FRAME_BYTES);
          const r = memory.findIndex((m) => m.buffer === next.buffer);
          if (r >= 0) {
            assert.equal(leased[r], true, `response ${r} was recycled without a lease`);
            assert.equal(readBy(r, left), false, `response ${r} recycled while a batch still reads it`);
            memory[r] = Buffer.alloc(0); // taken: not expected again
          }
        }
        // Every leased response is free again at the end (the list holds up to four).
        const freed = new Set<ArrayBufferLike>();
        for (let i = 0; i < 4; i++) freed.add(responseBuffer(RECYCLED_FRAME_BYTES).buffer);
        memory.forEach((m, r) => {
          if (m.length > 0 && leased[r]) assert.ok(freed.has(m.buffer), `response ${r} was not recycled after its last batch`);
        });
      },
    ),
    { numRuns: 300 },
  );
});
