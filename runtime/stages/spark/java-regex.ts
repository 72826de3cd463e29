/**
 * Java regular expressions (java.util.regex, as Spark's RegexTokenizer and Tokenizer use
 * them) translated to JavaScript RegExps with Java's meaning kept: `\s`, `\w`, `\d` and
 * the POSIX classes are ASCII-only, `\b` is Unicode-aware (Java 8–17), `.` stops at all of
 * Java's line terminators, `$` also matches before a final line terminator, character
 * classes may nest and intersect. The translation emits `v`-mode JavaScript (code points,
 * set notation) and never relies on JavaScript's own flags, so every construct means what
 * it meant to Java. Constructs without a faithful translation are refused at load time.
 */
import { JavaRegexError } from './java-regex-escapes.js';
import { Translator } from './java-regex-translate.js';

export { JavaRegexError };

/** Compiles a Java regex into a global JavaScript RegExp with the same matches. */
export function compileJavaRegex(pattern: string): RegExp {
  const source = new Translator(pattern).translate();
  try {
    return new RegExp(source, 'gv');
  } catch (e) {
    throw new JavaRegexError(`cannot translate Java regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** The [start, end) of each match, advancing past empty matches the way Matcher.find() does. */
function* matches(input: string, re: RegExp): Generator<[number, number]> {
  re.lastIndex = 0;
  for (let m = re.exec(input); m; m = re.exec(input)) {
    const start = m.index;
    const end = start + m[0].length;
    yield [start, end];
    if (end === start) re.lastIndex = end + (isSurrogatePair(input, end) ? 2 : 1);
    if (re.lastIndex > input.length) break;
  }
}

function isSurrogatePair(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
}

/**
 * Java's `Pattern.split(input)` (limit 0): a zero-width match at the very start yields no
 * leading empty string, no match at all yields the input itself (even ""), and trailing
 * empty strings are removed.
 */
export function javaSplit(input: string, re: RegExp): string[] {
  const out: string[] = [];
  let index = 0;
  for (const [start, end] of matches(input, re)) {
    if (index === 0 && start === 0 && end === 0) continue;
    out.push(input.slice(index, start));
    index = end;
  }
  if (index === 0) return [input];
  out.push(input.slice(index));
  let n = out.length;
  while (n > 0 && out[n - 1] === '') n--;
  return n === out.length ? out : out.slice(0, n);
}

/**
 * `javaSplit` for the patterns `\s` (Tokenizer's) and `\s+` (RegexTokenizer's default)
 * without a RegExp: Java's `\s` is exactly space, \t, \n, \x0B, \f and \r. Same
 * results as `javaSplit(input, compileJavaRegex(pattern))`, several times faster.
 */
export function splitOnJavaWhitespace(input: string, runs: boolean): string[] {
  const out: string[] = [];
  let index = 0;
  let matched = false;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c !== 32 && (c < 9 || c > 13)) continue;
    out.push(input.slice(index, i));
    if (runs) {
      while (i + 1 < input.length && isJavaSpace(input.charCodeAt(i + 1))) i++;
    }
    index = i + 1;
    matched = true;
  }
  if (!matched) return [input];
  out.push(input.slice(index));
  let n = out.length;
  while (n > 0 && out[n - 1] === '') n--;
  if (n < out.length) out.length = n;
  return out;
}

function isJavaSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** The whitespace patterns `splitOnJavaWhitespace` handles: pattern → whether runs split once. */
export const JAVA_WHITESPACE_SPLITS: ReadonlyMap<string, boolean> = new Map([
  ['\\s', false],
  ['\\s+', true],
]);

/** Scala's `regex.findAllIn(input)`: every match, in order (empty matches included). */
export function javaFindAll(input: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const [start, end] of matches(input, re)) out.push(input.slice(start, end));
  return out;
}
