import type { Stage, StageContext, StageFactory } from '../../pipeline/stage.js';
import { columnPairs, defaultOutputCol } from './common.js';
import { JAVA_WHITESPACE_SPLITS, compileJavaRegex, javaFindAll, javaSplit, splitOnJavaWhitespace } from './java-regex.js';
import { fuseTextChain } from './fused-text.js';
import { declareTextPart, type Splitter, type TokenizerPart } from './text-parts.js';
import { rejectNull, textVectorStages } from './text-vectors.js';
import { AsciiWordTrie } from './word-set.js';

const ML = 'org.apache.spark.ml.feature.';

/** Spark's english.txt, the StopWordsRemover default (saves before 2.4 do not record it). */
export const ENGLISH_STOP_WORDS = (
  'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself ' +
  'it its itself they them their theirs themselves what which who whom this that these those am is are was were be ' +
  'been being have has had having do does did doing a an the and but if or because as until while of at by for with ' +
  'about against between into through during before after above below to from up down in out on off over under again ' +
  'further then once here there when where why how all any both each few more most other some such no nor not only ' +
  "own same so than too very s t can will just don should now i'll you'll he'll she'll we'll they'll i'd you'd he'd " +
  "she'd we'd they'd i'm you're he's she's it's we're they're i've we've you've they've isn't aren't wasn't weren't " +
  "haven't hasn't hadn't don't doesn't didn't won't wouldn't shan't shouldn't mustn't can't couldn't cannot could " +
  "here's how's let's ought that's there's what's when's where's who's why's would"
).split(' ');

/**
 * A stage mapping one column — a string, or an array<string> — to one array<string>
 * column, row by row; a null input fails its row.
 */
function tokensStage(ctx: StageContext, inputType: 'string', map: (s: string) => string[]): Stage;
function tokensStage(ctx: StageContext, inputType: 'strings', map: (tokens: string[]) => string[]): Stage;
function tokensStage(ctx: StageContext, inputType: 'string' | 'strings', map: (v: never) => string[]): Stage {
  const apply = map as (v: string | string[]) => string[];
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const col: readonly (string | string[] | null)[] = frame.getTyped(input, inputType).values;
      const out = new Array<string[] | null>(col.length);
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        if (v == null) {
          out[i] = null;
          rejectNull(frame, i, stage, input);
        } else out[i] = apply(v);
      }
      frame.set(output, { type: 'strings', values: out });
    },
  };
  return stage;
}

/**
 * Tokenizer: `s.toLowerCase.split("\\s")` in Java, so only ASCII whitespace splits, runs
 * of spaces give empty tokens, an empty string gives one empty token and trailing empty
 * tokens are dropped.
 */
const tokenizer: StageFactory = (ctx) => {
  const tokenize = (s: string): string[] => splitOnJavaWhitespace(s.toLowerCase(), false);
  return fusableTokenizer(tokensStage(ctx, 'string', tokenize), { kind: 'tokenizer', splitter: 'spaces', lower: true, minLength: 0, tokenize });
};

/** A tokenizer that offers the pipeline the fused text chain (fused-text.ts) when its splitter is one it knows. */
function fusableTokenizer(stage: Stage, part: TokenizerPart | undefined): Stage {
  if (!part) return stage;
  declareTextPart(stage, part);
  stage.fuseWith = (following) => fuseTextChain(stage, following);
  return stage;
}

/** The fused chain's splitter doing what this RegexTokenizer's pattern does, if there is one. */
function knownSplitter(pattern: string, gaps: boolean, minLength: number): Splitter | undefined {
  if (gaps && pattern === '\\s') return 'spaces';
  if (gaps && pattern === '\\s+') return 'spaceRuns';
  // With empty tokens dropped, splitting on non-word characters keeps the runs of word characters.
  if (gaps && minLength >= 1 && (pattern === '\\W' || pattern === '\\W+')) return 'wordRuns';
  if (!gaps && pattern === '\\w+') return 'wordRuns';
  return undefined;
}

/** RegexTokenizer: split on (gaps) or collect (no gaps) Java-regex matches, then drop short tokens. */
const regexTokenizer: StageFactory = (ctx) => {
  const p = ctx.params;
  const source = p.string('pattern', '\\s+');
  const pattern = compileJavaRegex(source);
  const gaps = p.boolean('gaps', true);
  const minLength = p.number('minTokenLength', 1);
  const lower = p.boolean('toLowercase', true);
  const whitespaceRuns = gaps ? JAVA_WHITESPACE_SPLITS.get(source) : undefined;
  const tokenize = (s: string): string[] => {
    const str = lower ? s.toLowerCase() : s;
    const tokens =
      whitespaceRuns !== undefined ? splitOnJavaWhitespace(str, whitespaceRuns) : gaps ? javaSplit(str, pattern) : javaFindAll(str, pattern);
    return minLength > 0 ? tokens.filter((t) => t.length >= minLength) : tokens;
  };
  const splitter = knownSplitter(source, gaps, minLength);
  return fusableTokenizer(tokensStage(ctx, 'string', tokenize), splitter && { kind: 'tokenizer', splitter, lower, minLength, tokenize });
};

/**
 * Java's `String.toLowerCase(new Locale(locale))`. `new Locale("tr_TR")` takes the whole
 * string as the language, so only the bare codes "tr", "az" and "lt" switch on their
 * special casing rules; every other value behaves like the root locale.
 */
export function javaLocaleLowerCase(locale: string | undefined): (s: string) => string {
  const language = specialCasingLanguage(locale);
  if (language) return (s) => s.toLocaleLowerCase(language);
  return (s) => s.toLowerCase();
}

function specialCasingLanguage(locale: string | undefined): string | undefined {
  const language = locale?.toLowerCase();
  return language === 'tr' || language === 'az' || language === 'lt' ? language : undefined;
}

const stopWordsRemover: StageFactory = (ctx) => {
  const p = ctx.params;
  const { inputs, outputs } = columnPairs(p, () => defaultOutputCol(ctx));
  const words = p.strings('stopWords', ENGLISH_STOP_WORDS);
  const caseSensitive = p.boolean('caseSensitive', false);
  const locale = p.optionalString('locale');
  const lower = javaLocaleLowerCase(locale);
  const stop = new Set(caseSensitive ? words : words.map(lower));
  const exact = caseSensitive ? (t: string) => stop.has(t) : (t: string) => stop.has(lower(t));
  // The trie folds ASCII capitals as the root locale does; Turkish and Azeri fold 'I' otherwise.
  const trie = caseSensitive || !specialCasingLanguage(locale) ? new AsciiWordTrie(stop, !caseSensitive) : undefined;
  const isStopWord = trie
    ? (t: string) => {
        const found = trie.lookup(t);
        return found === AsciiWordTrie.UNDECIDED ? exact(t) : found === 1;
      }
    : exact;
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    transform(frame) {
      inputs.forEach((input, c) => {
        const col = frame.getTyped(input, 'strings').values;
        const out = new Array<string[] | null>(col.length);
        for (let i = 0; i < col.length; i++) {
          const terms = col[i];
          if (terms == null) {
            out[i] = null;
            rejectNull(frame, i, stage, input);
          } else out[i] = terms.filter((t) => !isStopWord(t));
        }
        frame.set(outputs[c]!, { type: 'strings', values: out });
      });
    },
  };
  return declareTextPart(stage, { kind: 'stopWords', trie, isStopWord });
};

/** NGram: every run of n consecutive tokens joined by one space; fewer than n tokens give none. */
const nGram: StageFactory = (ctx) => {
  const n = ctx.params.number('n', 2);
  if (!Number.isInteger(n) || n < 1) throw new Error(`NGram n must be an integer >= 1, got ${n}`);
  return tokensStage(ctx, 'strings', (tokens) => {
    const grams: string[] = [];
    for (let k = 0; k + n <= tokens.length; k++) grams.push(tokens.slice(k, k + n).join(' '));
    return grams;
  });
};

export const textStages: Record<string, StageFactory> = {
  [ML + 'Tokenizer']: tokenizer,
  [ML + 'RegexTokenizer']: regexTokenizer,
  [ML + 'StopWordsRemover']: stopWordsRemover,
  [ML + 'NGram']: nGram,
  ...textVectorStages,
};
