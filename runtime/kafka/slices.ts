/**
 * How a partition's batch is cut into slices: at most `maxRecords` records and at most
 * `maxBytes` bytes of record values, whichever comes first (a record larger than `maxBytes`
 * is a slice of its own). A slice is the unit of engine work, produce request and commit, so
 * its fixed cost (a hand-off to a worker, a produce and a commit round trip) is shared by its
 * records; the byte bound keeps a slice of big records as small in memory and engine time as
 * a slice of small ones was meant to be, and the record bound lets small records share that
 * cost more widely (docs/performance.md, "Slice size"). Keys and headers are not counted:
 * they are small next to the values the engine reads.
 */
export interface SliceBounds {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

/** About how many records a slice holds when values average `meanValueBytes` (0: unknown): the record bound, or fewer where the byte bound cuts first. */
export function recordsPerSlice({ maxRecords, maxBytes }: SliceBounds, meanValueBytes: number): number {
  if (!(meanValueBytes > 0)) return maxRecords;
  return Math.max(1, Math.min(maxRecords, Math.floor(maxBytes / meanValueBytes)));
}

/** The end (exclusive) of the slice of `messages` that starts at `start`; always past `start` when `start` is inside. */
export function sliceEnd(messages: readonly { readonly value: Buffer | null }[], start: number, { maxRecords, maxBytes }: SliceBounds): number {
  const last = Math.min(messages.length, start + maxRecords);
  if (start >= last) return last;
  let bytes = messages[start]!.value?.length ?? 0;
  let end = start + 1;
  while (end < last) {
    bytes += messages[end]!.value?.length ?? 0;
    if (bytes > maxBytes) break;
    end++;
  }
  return end;
}
