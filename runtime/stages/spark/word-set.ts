/**
 * Membership of tokens in a small word list (StopWordsRemover's), without lower-casing or
 * hashing each token. The ASCII words form a trie walked character by character; most
 * tokens leave it within two or three characters. With `fold`, ASCII capitals in a token
 * read as lower-case, which is exactly what the root locale's `toLowerCase` does to ASCII
 * (and lower-casing maps each character on its own, so a prefix that matches no word stays
 * unmatched whatever follows). A token still matching when it reaches a non-ASCII
 * character is left to the caller's exact check.
 */
export class AsciiWordTrie {
  /** Child node of (node, slot), 0 for none (the root is never a child). */
  private readonly children: Int32Array;
  private readonly terminal: Uint8Array;
  /** Character code (< 128) → alphabet slot, -1 for characters no word has. */
  private readonly slots = new Int8Array(128).fill(-1);
  private readonly width: number;
  /** The ASCII words the trie holds (with `fold`, the lower-case ones), for other indexes of the same list. */
  readonly words: readonly string[];
  /** Whether ASCII capitals in a token read as their lower case. */
  readonly folds: boolean;

  /** Returned by `lookup` when the answer depends on non-ASCII characters. */
  static readonly UNDECIDED = -1;

  /**
   * `words` are the list exactly as tokens are compared against it: already lower-cased when
   * `fold` is set (a word with an ASCII capital could then never match, and is left out).
   */
  constructor(words: Iterable<string>, fold: boolean) {
    const list = [...words].filter((w) => /^[\x00-\x7f]*$/.test(w) && !(fold && /[A-Z]/.test(w)));
    this.words = list;
    this.folds = fold;
    let width = 0;
    for (const w of list) {
      for (let i = 0; i < w.length; i++) {
        const c = w.charCodeAt(i);
        if (this.slots[c] === -1) this.slots[c] = width++;
      }
    }
    if (fold) {
      // An upper-case letter in a token reads its lower-case letter's slot.
      for (let c = 65; c <= 90; c++) this.slots[c] = this.slots[c + 32]!;
    }
    this.width = Math.max(1, width);
    const nodes = 1 + list.reduce((n, w) => n + w.length, 0);
    this.children = new Int32Array(nodes * this.width);
    this.terminal = new Uint8Array(nodes);
    let next = 1;
    for (const w of list) {
      let node = 0;
      for (let i = 0; i < w.length; i++) {
        const at = node * this.width + this.slots[w.charCodeAt(i)]!;
        if (this.children[at] === 0) this.children[at] = next++;
        node = this.children[at]!;
      }
      this.terminal[node] = 1;
    }
  }

  /**
   * One character further down from `node` (the root is 0): the next node, or -1 once no
   * word continues this way. `c` is the (lower-cased) character code; non-ASCII gives -1,
   * and the caller sends such tokens down the general path anyway.
   */
  step(node: number, c: number): number {
    const slot = c < 128 ? this.slots[c]! : -1;
    if (slot < 0) return -1;
    const child = this.children[node * this.width + slot]!;
    return child === 0 ? -1 : child;
  }

  /** Whether a walk of `step`s that ended on `node` (≥ 0) spelled a whole word. */
  isWord(node: number): boolean {
    return this.terminal[node] === 1;
  }

  /** `lookup` of a token held as `length` ASCII bytes (every byte below 128). */
  lookupBytes(bytes: Uint8Array, length: number): number {
    let node = 0;
    for (let i = 0; i < length; i++) {
      const slot = this.slots[bytes[i]!]!;
      if (slot < 0) return 0;
      node = this.children[node * this.width + slot]!;
      if (node === 0) return 0;
    }
    return this.terminal[node]!;
  }

  /** 1 when the token is in the list, 0 when it is not, UNDECIDED when non-ASCII decides. */
  lookup(token: string): number {
    let node = 0;
    for (let i = 0; i < token.length; i++) {
      const c = token.charCodeAt(i);
      if (c >= 128) return AsciiWordTrie.UNDECIDED;
      const slot = this.slots[c]!;
      if (slot < 0) return 0;
      node = this.children[node * this.width + slot]!;
      if (node === 0) return 0;
    }
    return this.terminal[node]!;
  }
}

/**
 * The same ASCII words keyed by a 32-bit hash of each (the hash the fused text stage computes
 * for every token anyway, HashingTF's murmur3): a token is checked once, at its end, with one
 * probe of a small table, instead of stepping a trie at each of its characters. A hash hit is
 * confirmed character by character, so a token that only shares a word's hash is not taken for
 * it. Exact words only: there is no case folding here, so a caller whose tokens may hold
 * capitals that the list should fold keeps the trie.
 */
export class AsciiWordHashes {
  private readonly hashes: Int32Array;
  /** Word number + 1 per slot, 0 for an empty slot. */
  private readonly ids: Int32Array;
  private readonly mask: number;

  constructor(
    private readonly words: readonly string[],
    hash: (word: string) => number,
  ) {
    let size = 16;
    while (size < words.length * 4) size *= 2;
    this.hashes = new Int32Array(size);
    this.ids = new Int32Array(size);
    this.mask = size - 1;
    words.forEach((w, k) => {
      const h = hash(w) | 0;
      let slot = h & this.mask;
      while (this.ids[slot] !== 0) slot = (slot + 1) & this.mask;
      this.hashes[slot] = h;
      this.ids[slot] = k + 1;
    });
  }

  /**
   * The slot of a word with hash `h` and `length` characters, probing from `from` (a slot
   * `find` returned, plus one, for the next candidate); -1 when there is none. A caller
   * compares the word's characters (`word`) with its token: only equal characters make it a
   * stop word.
   */
  find(h: number, length: number, from = -1): number {
    const { hashes, ids, mask } = this;
    for (let slot = from < 0 ? h & mask : from & mask; ; slot = (slot + 1) & mask) {
      const id = ids[slot]!;
      if (id === 0) return -1;
      if (hashes[slot] === h && this.words[id - 1]!.length === length) return slot;
    }
  }

  /** The table as arrays, for the C token loop: slot hashes, word number + 1 per slot, the words. */
  tables(): { readonly hashes: Int32Array; readonly ids: Int32Array; readonly words: readonly string[] } {
    return { hashes: this.hashes, ids: this.ids, words: this.words };
  }

  /** The word at a slot `find` returned. */
  word(slot: number): string {
    return this.words[this.ids[slot]! - 1]!;
  }
}
