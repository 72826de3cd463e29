/**
 * CountVectorizerModel's term → index lookup for a term held as ASCII bytes, so the fused
 * text stage finds a token's index without making a string of it. An open-addressing table
 * of the vocabulary's ASCII terms (a non-ASCII term can never equal an ASCII token); a term
 * listed twice keeps its last index, as the general Map (and Spark's `toMap`) does.
 */
export class AsciiVocabulary {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly termBytes: Uint8Array;
  private readonly termStart: Int32Array;
  private readonly termIndex: Int32Array;

  constructor(vocabulary: readonly string[]) {
    const ascii = vocabulary.flatMap((term, index) => (/^[\x00-\x7f]*$/.test(term) ? [{ term, index }] : []));
    let capacity = 16;
    while (capacity < ascii.length * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.slots = new Int32Array(capacity).fill(-1);
    this.termBytes = new Uint8Array(ascii.reduce((n, t) => n + t.term.length, 0));
    this.termStart = new Int32Array(ascii.length + 1);
    this.termIndex = new Int32Array(ascii.length);
    let at = 0;
    ascii.forEach(({ term, index }, k) => {
      this.termStart[k] = at;
      for (let i = 0; i < term.length; i++) this.termBytes[at++] = term.charCodeAt(i);
      this.termStart[k + 1] = at;
      this.termIndex[k] = index;
      const slot = this.find(this.termBytes.subarray(this.termStart[k]!, at), term.length);
      if (this.slots[slot]! >= 0) this.termIndex[this.slots[slot]!] = index;
      else this.slots[slot] = k;
    });
  }

  /** The term's vocabulary index, -1 when it is not in the vocabulary. */
  lookup(bytes: Uint8Array, length: number): number {
    const k = this.slots[this.find(bytes, length)]!;
    return k < 0 ? -1 : this.termIndex[k]!;
  }

  /** The slot holding these bytes, or the empty slot where they would go. */
  private find(bytes: Uint8Array, length: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const k = this.slots[slot]!;
      if (k < 0 || this.equals(k, bytes, length)) return slot;
    }
  }

  private equals(k: number, bytes: Uint8Array, length: number): boolean {
    const start = this.termStart[k]!;
    if (this.termStart[k + 1]! - start !== length) return false;
    for (let i = 0; i < length; i++) if (this.termBytes[start + i] !== bytes[i]) return false;
    return true;
  }
}
