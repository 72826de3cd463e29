/**
 * The grammar of the Java regex translation: alternation, groups (capturing, named, atomic,
 * inline flags), quantifiers (possessive ones included) and character classes with Java's
 * nesting and `&&` intersections.
 */
import {
  BOUNDARY_WORD,
  type ClassItem,
  type Flags,
  codePointClass,
  LINE_TERMINATORS,
  RegexCursor,
  UNICODE_WORD,
} from './java-regex-escapes.js';

export class Translator extends RegexCursor {
  private javaGroups = 0;
  /** Every Java group gets a JS name, so synthetic groups never shift back-reference numbers. */
  private readonly groupNames = new Map<number, string>();
  private synthetic = 0;

  translate(): string {
    const out = this.alternation();
    if (this.pos < this.src.length) this.fail(`unmatched ")"`);
    return out;
  }

  private alternation(): string {
    const branches = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence());
    }
    return branches.join('|');
  }

  private sequence(): string {
    let out = '';
    for (;;) {
      this.skipComments();
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') return out;
      const atom = this.atom();
      if (atom === null) continue;
      out += this.quantified(atom);
    }
  }

  private skipComments(): void {
    if (!this.flags.x) return;
    for (;;) {
      const c = this.peek();
      if (c !== undefined && /\s/.test(c)) this.pos++;
      else if (c === '#') {
        while (this.peek() !== undefined && this.peek() !== '\n') this.pos++;
      } else return;
    }
  }

  /** Wraps `body` so the engine cannot backtrack into it (Java's atomic groups, possessive quantifiers). */
  private atomic(body: string): string {
    const name = `_a${this.synthetic++}`;
    return `(?:(?=(?<${name}>${body}))\\k<${name}>)`;
  }

  private quantified(atom: string): string {
    this.skipComments();
    const c = this.peek();
    let q: string;
    if (c === '*' || c === '+' || c === '?') {
      q = c;
      this.pos++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) this.fail('"{" does not start a quantifier');
      q = m[0];
      this.pos += m[0].length;
    } else {
      return atom;
    }
    const mode = this.peek();
    if (mode === '?') {
      this.pos++;
      return `${atom}${q}?`;
    }
    if (mode === '+') {
      this.pos++;
      return this.atomic(`${atom}${q}`);
    }
    return `${atom}${q}`;
  }

  /** One atom as a JS fragment that a quantifier may follow; null for an inline flag group. */
  private atom(): string | null {
    const c = this.src[this.pos++]!;
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.charClass();
      case '.':
        if (this.flags.s) return '[\\u{0}-\\u{10FFFF}]';
        return this.flags.d ? '[^\\n]' : `[^${LINE_TERMINATORS}]`;
      case '^':
        if (this.flags.m) this.fail('MULTILINE "^" is not supported');
        return '(?:^)';
      case '$':
        if (this.flags.m) this.fail('MULTILINE "$" is not supported');
        return this.endOfInput();
      case '\\':
        return this.escapeOutsideClass();
      default: {
        this.pos--;
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literalAtom(cp);
      }
    }
  }

  /** Java's non-MULTILINE `$` and `\Z`: end of input, or before a final line terminator. */
  private endOfInput(): string {
    if (this.flags.d) return '(?:(?=\\n?$))';
    return '(?:(?=(?:\\r\\n|(?<!\\r)\\n|[\\r\\u{85}\\u{2028}\\u{2029}])?$))';
  }

  private group(): string | null {
    const saved = { ...this.flags };
    let open: string;
    if (this.peek() === '?') {
      this.pos++;
      const c = this.src[this.pos++];
      if (c === ':') open = '(?:';
      else if (c === '=') open = '(?=';
      else if (c === '!') open = '(?!';
      else if (c === '>') open = 'atomic';
      else if (c === '<' && (this.peek() === '=' || this.peek() === '!')) open = `(?<${this.src[this.pos++]}`;
      else if (c === '<') {
        const m = /^([a-zA-Z][a-zA-Z0-9]*)>/.exec(this.src.slice(this.pos));
        if (!m) this.fail('bad group name');
        this.pos += m[0].length;
        this.groupNames.set(++this.javaGroups, m[1]!);
        open = `(?<${m[1]}>`;
      } else {
        this.pos--;
        const m = /^([idmsuxU]*)(?:-([idmsuxU]*))?([:)])/.exec(this.src.slice(this.pos));
        if (!m) this.fail('unknown group construct');
        this.pos += m[0].length;
        for (const f of m[1]!) this.flags[f as keyof Flags] = true;
        for (const f of m[2] ?? '') this.flags[f as keyof Flags] = false;
        if (m[3] === ')') return null;
        open = '(?:';
      }
    } else {
      const name = `_g${++this.javaGroups}`;
      this.groupNames.set(this.javaGroups, name);
      open = `(?<${name}>`;
    }
    const body = this.alternation();
    if (this.src[this.pos++] !== ')') this.fail('unclosed group');
    this.flags = saved;
    return open === 'atomic' ? this.atomic(body) : `${open}${body})`;
  }

  private escapeOutsideClass(): string {
    const c = this.src[this.pos];
    if (c === undefined) this.fail('trailing backslash');
    switch (c) {
      case 'b':
      case 'B': {
        this.pos++;
        if (this.peek() === '{') this.fail('\\b{g} is not supported');
        const w = this.flags.U ? UNICODE_WORD : BOUNDARY_WORD;
        const boundary = `(?:(?<=${w})(?!${w})|(?<!${w})(?=${w}))`;
        return c === 'b' ? boundary : `(?!${boundary})`;
      }
      case 'A':
        this.pos++;
        return '(?:^)';
      case 'z':
        this.pos++;
        return '(?:$)';
      case 'Z':
        this.pos++;
        return this.endOfInput();
      case 'G':
      case 'X':
      case 'N':
        return this.fail(`\\${c} is not supported`);
      case 'R':
        this.pos++;
        return this.atomic('\\r\\n|[\\n\\u{B}\\f\\r\\u{85}\\u{2028}\\u{2029}]');
      case 'k': {
        const m = /^k<([a-zA-Z][a-zA-Z0-9]*)>/.exec(this.src.slice(this.pos));
        if (!m) this.fail('bad named back reference');
        if (this.flags.i) this.fail('case-insensitive back references are not supported');
        this.pos += m[0].length;
        return `\\k<${m[1]}>`;
      }
      case 'Q': {
        this.pos++;
        const end = this.src.indexOf('\\E', this.pos);
        const quoted = this.src.slice(this.pos, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        return [...quoted].map((ch) => `(?:${this.literalAtom(ch.codePointAt(0)!)})`).join('');
      }
      default:
        if (c >= '1' && c <= '9') return this.backReference();
        return this.escapeCommon(false).text;
    }
  }

  /** Java reads as many digits as still name an existing group. */
  private backReference(): string {
    if (this.flags.i) this.fail('case-insensitive back references are not supported');
    let n = Number(this.src[this.pos++]);
    while (this.peek() !== undefined && /[0-9]/.test(this.peek()!) && n * 10 + Number(this.peek()) <= this.javaGroups) {
      n = n * 10 + Number(this.src[this.pos++]);
    }
    const name = this.groupNames.get(n);
    if (name === undefined) this.fail(`back reference \\${n} to a group not yet defined`);
    return `\\k<${name}>`;
  }

  /**
   * A Java character class: unions (nested classes, ranges, escapes) joined by `&&`
   * intersections, with a literal `]` allowed first.
   */
  private charClass(): string {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const operands: string[] = [];
    let items: string[] = [];
    let first = true;
    for (;;) {
      if (this.flags.x) this.skipClassWhitespace();
      const c = this.peek();
      if (c === undefined) this.fail('unclosed character class');
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      if (c === '&' && this.peek(1) === '&') {
        this.pos += 2;
        operands.push(`[${items.join('')}]`);
        items = [];
        first = false;
        continue;
      }
      first = false;
      if (c === '[') {
        this.pos++;
        items.push(this.charClass());
        continue;
      }
      const item = this.classAtom();
      if (item.cp !== undefined && this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '[' && this.peek(1) !== undefined) {
        const save = this.pos;
        this.pos++;
        const hi = this.classAtom();
        if (hi.cp === undefined) {
          this.pos = save;
          items.push(...this.caseFold(item.cp, item.cp));
          continue;
        }
        if (hi.cp < item.cp) this.fail('illegal character range');
        items.push(...this.caseFold(item.cp, hi.cp));
        continue;
      }
      items.push(...(item.cp !== undefined ? this.caseFold(item.cp, item.cp) : [item.text]));
    }
    if (operands.length === 0) return `[${negated ? '^' : ''}${items.join('')}]`;
    if (negated) this.fail('a negated class with "&&" is not supported');
    operands.push(`[${items.join('')}]`);
    return `[${operands.join('&&')}]`;
  }

  private skipClassWhitespace(): void {
    while (this.peek() !== undefined && /\s/.test(this.peek()!)) this.pos++;
  }

  private classAtom(): ClassItem {
    const c = this.peek()!;
    if (c === '\\') {
      this.pos++;
      if (this.peek() === 'Q') {
        this.pos++;
        const end = this.src.indexOf('\\E', this.pos);
        const quoted = this.src.slice(this.pos, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        const cps = [...quoted].map((ch) => ch.codePointAt(0)!);
        if (cps.length === 1) return { text: codePointClass(cps[0]!), cp: cps[0]! };
        return { text: cps.flatMap((cp) => this.caseFold(cp, cp)).join('') };
      }
      return this.escapeCommon(true);
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return { text: codePointClass(cp), cp };
  }
}
