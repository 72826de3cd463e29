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

  /** Returned by `lookup` when the answer depends on non-ASCII characters. */
  static readonly UNDECIDED = -1;

  /**
   * `words` are the list exactly as tokens are compared against it: already lower-cased when
   * `fold` is set (a word with an ASCII capital could then never match, and is left out).
   */
  constructor(words: Iterable<string>, fold: boolean) {
    const list = [...words].filter((w) => /^[\x00-\x7f]*$/.test(w) && !(fold && /[A-Z]/.test(w)));
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
