/**
 * The lexical layer of the Java regex translation: a cursor over the Java pattern with its
 * inline flags, and the escapes and predefined classes Java defines, spelled as v-mode
 * JavaScript that means the same.
 */

export const LINE_TERMINATORS = '\\n\\r\\u{85}\\u{2028}\\u{2029}';
const ASCII_WORD = '[a-zA-Z0-9_]';
export const UNICODE_WORD = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';
/** java.util.regex.Pattern's isWord() for `\b` without UNICODE_CHARACTER_CLASS. */
export const BOUNDARY_WORD = '[\\p{L}\\p{Nd}_]';

export interface Flags {
  i: boolean; // CASE_INSENSITIVE
  u: boolean; // UNICODE_CASE
  m: boolean; // MULTILINE
  s: boolean; // DOTALL
  x: boolean; // COMMENTS
  d: boolean; // UNIX_LINES
  U: boolean; // UNICODE_CHARACTER_CLASS
}

export class JavaRegexError extends Error {
  override name = 'JavaRegexError';
}

const POSIX_ASCII: Record<string, string> = {
  Lower: '[a-z]',
  Upper: '[A-Z]',
  ASCII: '[\\u{0}-\\u{7F}]',
  Alpha: '[a-zA-Z]',
  Digit: '[0-9]',
  Alnum: '[a-zA-Z0-9]',
  Punct: '[\\u{21}-\\u{2F}\\u{3A}-\\u{40}\\u{5B}-\\u{60}\\u{7B}-\\u{7E}]',
  Graph: '[\\u{21}-\\u{7E}]',
  Print: '[\\u{20}-\\u{7E}]',
  Blank: '[\\u{20}\\t]',
  Cntrl: '[\\u{0}-\\u{1F}\\u{7F}]',
  XDigit: '[0-9a-fA-F]',
  Space: '[\\u{20}\\t\\n\\u{B}\\f\\r]',
};

/** POSIX classes under UNICODE_CHARACTER_CLASS, as Pattern's CharPredicates define them. */
const POSIX_UNICODE: Record<string, string> = {
  Lower: '\\p{Lowercase}',
  Upper: '\\p{Uppercase}',
  ASCII: '[\\u{0}-\\u{7F}]',
  Alpha: '\\p{Alphabetic}',
  Digit: '\\p{Nd}',
  Alnum: '[\\p{Alphabetic}\\p{Nd}]',
  Punct: '\\p{P}',
  Graph: '[^\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}]',
  Print: '[[[^\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}]\\p{Zs}\\t]&&\\P{Cc}]',
  Blank: '[\\p{Zs}\\t]',
  Cntrl: '\\p{Cc}',
  XDigit: '[\\p{Nd}\\p{Hex_Digit}]',
  Space: '\\p{White_Space}',
};

/** `java.lang.Character` predicates (`\p{javaLowerCase}` ...). */
const JAVA_CHARACTER: Record<string, string> = {
  javaLowerCase: '\\p{Lowercase}',
  javaUpperCase: '\\p{Uppercase}',
  javaTitleCase: '\\p{Lt}',
  javaDigit: '\\p{Nd}',
  javaLetter: '\\p{L}',
  javaLetterOrDigit: '[\\p{L}\\p{Nd}]',
  javaAlphabetic: '\\p{Alphabetic}',
  javaIdeographic: '\\p{Ideographic}',
  javaSpaceChar: '[\\p{Zs}\\p{Zl}\\p{Zp}]',
  javaWhitespace: '[[\\t\\n\\u{B}\\f\\r\\u{1C}-\\u{1F}\\p{Zs}\\p{Zl}\\p{Zp}]--[\\u{A0}\\u{2007}\\u{202F}]]',
  javaISOControl: '[\\u{0}-\\u{1F}\\u{7F}-\\u{9F}]',
  javaMirrored: '\\p{Bidi_Mirrored}',
};

/** Binary properties Java accepts as `\p{IsXxx}` (names compared without case, `_` and spaces). */
const BINARY_PROPERTIES: Record<string, string> = {
  alphabetic: '\\p{Alphabetic}',
  ideographic: '\\p{Ideographic}',
  letter: '\\p{L}',
  lowercase: '\\p{Lowercase}',
  uppercase: '\\p{Uppercase}',
  titlecase: '\\p{Lt}',
  punctuation: '\\p{P}',
  control: '\\p{Cc}',
  whitespace: '\\p{White_Space}',
  digit: '\\p{Nd}',
  hexdigit: '\\p{Hex_Digit}',
  joincontrol: '\\p{Join_Control}',
  noncharactercodepoint: '\\p{Noncharacter_Code_Point}',
  assigned: '\\P{Cn}',
  emoji: '\\p{Emoji}',
};

const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo LC M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Cn'.split(' '),
);

export function codePointClass(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** A literal code point, spelled so it is valid anywhere in a v-mode pattern. */
function literal(cp: number): string {
  const isPlain = (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return isPlain ? String.fromCodePoint(cp) : codePointClass(cp);
}

/** Code points a case-insensitive Java match accepts for cp: ASCII only unless UNICODE_CASE. */
function caseVariants(cp: number, unicode: boolean): number[] {
  if (!unicode) {
    if (cp >= 0x41 && cp <= 0x5a) return [cp, cp + 32];
    if (cp >= 0x61 && cp <= 0x7a) return [cp, cp - 32];
    return [cp];
  }
  const ch = String.fromCodePoint(cp);
  const out = new Set([cp]);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
    if ([...v].length === 1) out.add(v.codePointAt(0)!);
  }
  return [...out];
}

export interface ClassItem {
  /** The item as v-mode class content (a range, a code point or a nested class). */
  readonly text: string;
  /** Set for a single code point, which may start or end a range. */
  readonly cp?: number;
}

export class RegexCursor {
  protected pos = 0;
  protected flags: Flags = { i: false, u: false, m: false, s: false, x: false, d: false, U: false };

  constructor(protected readonly src: string) {}

  protected fail(why: string): never {
    throw new JavaRegexError(`Java regex ${JSON.stringify(this.src)} at ${this.pos}: ${why}`);
  }

  protected peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  protected literalAtom(cp: number): string {
    if (!this.flags.i) return literal(cp);
    const variants = caseVariants(cp, this.flags.u);
    return variants.length === 1 ? literal(cp) : `[${variants.map(codePointClass).join('')}]`;
  }

  /** Escapes valid both in and outside a class: a code point, or a predefined class. */
  protected escapeCommon(inClass: boolean): ClassItem {
    const c = this.src[this.pos++]!;
    const U = this.flags.U;
    const single = (cp: number): ClassItem => ({ text: inClass ? codePointClass(cp) : this.literalAtom(cp), cp });
    switch (c) {
      case 't':
        return single(9);
      case 'n':
        return single(10);
      case 'r':
        return single(13);
      case 'f':
        return single(12);
      case 'a':
        return single(7);
      case 'e':
        return single(27);
      case '0': {
        const m = /^[0-3]?[0-7]{1,2}/.exec(this.src.slice(this.pos)) ?? /^[0-7]/.exec(this.src.slice(this.pos));
        if (!m) this.fail('bad octal escape');
        this.pos += m[0].length;
        return single(parseInt(m[0], 8));
      }
      case 'x': {
        const m = /^(?:\{([0-9a-fA-F]+)\}|([0-9a-fA-F]{2}))/.exec(this.src.slice(this.pos));
        if (!m) this.fail('bad \\x escape');
        this.pos += m[0].length;
        return single(parseInt(m[1] ?? m[2]!, 16));
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
        if (!m) this.fail('bad \\u escape');
        this.pos += 4;
        let cp = parseInt(m[0], 16);
        const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(this.src.slice(this.pos));
        if (cp >= 0xd800 && cp <= 0xdbff && low) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00);
          this.pos += 6;
        }
        return single(cp);
      }
      case 'c': {
        const ch = this.src[this.pos++];
        if (ch === undefined) this.fail('bad \\c escape');
        return single(ch.charCodeAt(0) ^ 64);
      }
      case 'd':
        return { text: U ? '\\p{Nd}' : '[0-9]' };
      case 'D':
        return { text: U ? '\\P{Nd}' : '[^0-9]' };
      case 's':
        return { text: U ? '\\p{White_Space}' : POSIX_ASCII.Space! };
      case 'S':
        return { text: U ? '\\P{White_Space}' : '[^\\u{20}\\t\\n\\u{B}\\f\\r]' };
      case 'w':
        return { text: U ? UNICODE_WORD : ASCII_WORD };
      case 'W':
        return { text: U ? `[^${UNICODE_WORD.slice(1, -1)}]` : '[^a-zA-Z0-9_]' };
      case 'h':
        return { text: '[\\u{20}\\t\\u{A0}\\u{1680}\\u{180E}\\u{2000}-\\u{200A}\\u{202F}\\u{205F}\\u{3000}]' };
      case 'H':
        return { text: '[^\\u{20}\\t\\u{A0}\\u{1680}\\u{180E}\\u{2000}-\\u{200A}\\u{202F}\\u{205F}\\u{3000}]' };
      case 'v':
        return { text: '[\\n\\u{B}\\f\\r\\u{85}\\u{2028}\\u{2029}]' };
      case 'V':
        return { text: '[^\\n\\u{B}\\f\\r\\u{85}\\u{2028}\\u{2029}]' };
      case 'p':
      case 'P':
        return { text: this.property(c === 'P') };
      default: {
        const cp = this.src.codePointAt(this.pos - 1)!;
        if (/[a-zA-Z]/.test(c)) this.fail(`illegal escape \\${c}`);
        if (cp > 0xffff) this.pos++;
        return single(cp);
      }
    }
  }

  protected property(negated: boolean): string {
    let name: string;
    if (this.peek() === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) this.fail('unclosed \\p{');
      name = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      name = this.src[this.pos++] ?? this.fail('bad \\p escape');
    }
    const set = this.propertySet(name);
    if (!negated) return set;
    return set.startsWith('\\p') ? `\\P${set.slice(2)}` : set.startsWith('\\P') ? `\\p${set.slice(2)}` : `[^${set}]`;
  }

  protected propertySet(name: string): string {
    const posix = (this.flags.U ? POSIX_UNICODE : POSIX_ASCII)[name];
    if (posix) return posix;
    const javaChar = JAVA_CHARACTER[name];
    if (javaChar) return javaChar;
    if (name === 'L1') return '[\\u{0}-\\u{FF}]';
    if (name === 'LD') return '[\\p{L}\\p{Nd}]';
    if (name === 'all') return '[\\u{0}-\\u{10FFFF}]';
    if (GENERAL_CATEGORIES.has(name)) return `\\p{${name}}`;
    const eq = /^(gc|general_category|sc|script|blk|block)=(.+)$/i.exec(name);
    if (eq) {
      const key = eq[1]!.toLowerCase();
      if (key === 'blk' || key === 'block') this.fail('Unicode blocks are not supported');
      if (key === 'gc' || key === 'general_category') {
        if (!GENERAL_CATEGORIES.has(eq[2]!)) this.fail(`unknown category ${eq[2]}`);
        return `\\p{${eq[2]}}`;
      }
      return this.script(eq[2]!);
    }
    if (name.startsWith('In')) this.fail('Unicode blocks are not supported');
    if (name.startsWith('Is')) {
      const rest = name.slice(2);
      if (GENERAL_CATEGORIES.has(rest)) return `\\p{${rest}}`;
      const binary = BINARY_PROPERTIES[rest.toLowerCase().replace(/[_\s]/g, '')];
      if (binary) return binary;
      return this.script(rest);
    }
    this.fail(`unknown property \\p{${name}}`);
  }

  protected script(name: string): string {
    const canonical = name
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
      .join('_');
    const text = `\\p{Script=${canonical}}`;
    try {
      new RegExp(text, 'v');
    } catch {
      this.fail(`unknown script ${name}`);
    }
    return text;
  }

  /** A range as class content, widened by Java's case-insensitive matching when it is on. */
  protected caseFold(lo: number, hi: number): string[] {
    const range = (a: number, b: number): string => (a === b ? codePointClass(a) : `${codePointClass(a)}-${codePointClass(b)}`);
    const out = [range(lo, hi)];
    if (!this.flags.i) return out;
    const shift = (a: number, b: number, from: number, to: number, delta: number): void => {
      const s = Math.max(a, from);
      const e = Math.min(b, to);
      if (s <= e) out.push(range(s + delta, e + delta));
    };
    shift(lo, hi, 0x41, 0x5a, 32);
    shift(lo, hi, 0x61, 0x7a, -32);
    if (this.flags.u && hi > 0x7f) {
      if (hi - lo > 4096) this.fail('case-insensitive matching of a large non-ASCII range is not supported');
      for (let cp = Math.max(lo, 0x80); cp <= hi; cp++) {
        for (const v of caseVariants(cp, true)) if (v !== cp) out.push(codePointClass(v));
      }
    }
    return out;
  }
}
