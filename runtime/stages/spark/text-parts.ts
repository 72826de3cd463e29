import type { Stage } from '../../pipeline/stage.js';
import type { AsciiWordTrie } from './word-set.js';

/**
 * What each stage of the text chain tells the fused text stage (fused-text.ts) about its
 * params, recorded by the stage factories as they build the general stages. A stage with no
 * part, or a part that says it cannot fuse, keeps the chain on the general path.
 */

/**
 * How a tokenizer's pattern splits: `spaces` is Java's `\s` split, `spaceRuns` its `\s+`;
 * `wordRuns` keeps the maximal runs of `[A-Za-z0-9_]` (`\W`/`\W+` gaps with a minimum token
 * length of 1 or more, `\w+` matches).
 */
export type Splitter = 'spaces' | 'spaceRuns' | 'wordRuns';

export interface TokenizerPart {
  readonly kind: 'tokenizer';
  readonly splitter: Splitter;
  readonly lower: boolean;
  readonly minLength: number;
  /** The general tokenizer of one text, for rows the fused path leaves to it. */
  readonly tokenize: (text: string) => string[];
}

export interface StopWordsPart {
  readonly kind: 'stopWords';
  /** Undefined when the locale folds ASCII differently from the root locale (tr, az, lt). */
  readonly trie: AsciiWordTrie | undefined;
  readonly isStopWord: (token: string) => boolean;
}

export interface HashingPart {
  readonly kind: 'hashing';
  readonly size: number;
  readonly legacy: boolean;
  readonly binary: boolean;
}

export interface VocabularyPart {
  readonly kind: 'vocabulary';
  readonly size: number;
  readonly vocabulary: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly minTF: number;
  readonly binary: boolean;
}

export interface IdfPart {
  readonly kind: 'idf';
  readonly idf: Float64Array;
}

export type TextPart = TokenizerPart | StopWordsPart | HashingPart | VocabularyPart | IdfPart;

const parts = new WeakMap<Stage, TextPart>();

/** Records a general stage's part in the text chain; returns the stage. */
export function declareTextPart<S extends Stage>(stage: S, part: TextPart): S {
  parts.set(stage, part);
  return stage;
}

export function textPartOf(stage: Stage | undefined): TextPart | undefined {
  return stage ? parts.get(stage) : undefined;
}
