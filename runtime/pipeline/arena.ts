/**
 * Hands out typed arrays as views of larger shared chunks. A stage that makes one small
 * vector per row would otherwise allocate a separate backing store per row, each one a
 * malloc, a free and external memory the garbage collector tracks; with an arena a batch
 * costs a few chunks. A chunk lives as long as any view of it, so views must not be
 * transferred (their `.buffer` is shared); copy them first.
 */
export class TypedArena {
  private ints = new Int32Array(0);
  private intsUsed = 0;
  private doubles = new Float64Array(0);
  private doublesUsed = 0;

  constructor(private readonly chunkLength = 1 << 16) {}

  int32(n: number): Int32Array {
    if (this.intsUsed + n > this.ints.length) {
      this.ints = new Int32Array(Math.max(this.chunkLength, n));
      this.intsUsed = 0;
    }
    const view = this.ints.subarray(this.intsUsed, this.intsUsed + n);
    this.intsUsed += n;
    return view;
  }

  float64(n: number): Float64Array {
    if (this.doublesUsed + n > this.doubles.length) {
      this.doubles = new Float64Array(Math.max(this.chunkLength, n));
      this.doublesUsed = 0;
    }
    const view = this.doubles.subarray(this.doublesUsed, this.doublesUsed + n);
    this.doublesUsed += n;
    return view;
  }
}
