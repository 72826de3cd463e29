/**
 * Parses the SQLTransformer statements a saved pipeline commonly holds — a SELECT of
 * columns and expressions from `__THIS__` — into a small expression tree. Anything outside
 * that subset (WHERE, joins, aggregates, unknown functions, decimal literals) is refused with
 * the reason, so a package either runs with Spark's semantics or does not load.
 */

export type SqlExpr =
  | { readonly kind: 'column'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly integral: boolean }
  | { readonly kind: 'negate'; readonly arg: SqlExpr }
  | { readonly kind: 'binary'; readonly op: '+' | '-' | '*' | '/' | '%' | '||'; readonly left: SqlExpr; readonly right: SqlExpr }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly SqlExpr[] }
  | { readonly kind: 'cast'; readonly arg: SqlExpr; readonly to: 'string' | 'double' | 'int' };

/** One item of the SELECT list: `*`, or an expression written to the column `alias`. */
export type SelectItem = { readonly kind: 'star' } | { readonly kind: 'expr'; readonly expr: SqlExpr; readonly alias: string };

/** Functions the evaluator implements, by upper-case name, with their argument counts. */
export const SQL_FUNCTIONS: Readonly<Record<string, readonly [min: number, max: number]>> = {
  CONCAT: [1, Infinity],
  LOWER: [1, 1],
  LCASE: [1, 1],
  UPPER: [1, 1],
  UCASE: [1, 1],
  TRIM: [1, 1],
  ABS: [1, 1],
  SQRT: [1, 1],
  EXP: [1, 1],
  LN: [1, 1],
  LOG10: [1, 1],
  LOG2: [1, 1],
  POW: [2, 2],
  POWER: [2, 2],
};

const CAST_TYPES: Record<string, 'string' | 'double' | 'int'> = { STRING: 'string', DOUBLE: 'double', INT: 'int', INTEGER: 'int' };

type Token =
  | { readonly t: 'ident'; readonly v: string; readonly quoted: boolean }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'number'; readonly v: string }
  | { readonly t: 'op'; readonly v: string };

export class SqlUnsupported extends Error {}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' };

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      // Spark's default (non-ANSI) parser reads both quotes as string literals, with backslash escapes.
      let v = '';
      i++;
      while (i < sql.length && sql[i] !== c) {
        if (sql[i] === '\\' && i + 1 < sql.length) {
          const e = sql[i + 1]!;
          v += ESCAPES[e] ?? e;
          i += 2;
        } else v += sql[i++];
      }
      if (i >= sql.length) throw new SqlUnsupported('an unterminated string literal');
      i++;
      out.push({ t: 'string', v });
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new SqlUnsupported('an unterminated `quoted` name');
      out.push({ t: 'ident', v: sql.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)(E[+-]?\d+)?[A-Z]*/i.exec(sql.slice(i))!;
      out.push({ t: 'number', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z_0-9]*/.exec(sql.slice(i))!;
      out.push({ t: 'ident', v: m[0], quoted: false });
      i += m[0].length;
    } else if (sql.startsWith('||', i)) {
      out.push({ t: 'op', v: '||' });
      i += 2;
    } else if ('+-*/%(),;<>=!'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
    } else {
      throw new SqlUnsupported(`the character ${JSON.stringify(c)}`);
    }
  }
  return out;
}

/**
 * Spark's numeric literals: `8` is an INT, `8L` a BIGINT, `1.5D` and `1e3` DOUBLEs. A plain
 * `1.5` is a DECIMAL, whose exact arithmetic this runtime does not reproduce.
 */
function numberLiteral(text: string): SqlExpr {
  const m = /^(\d+\.?\d*|\.\d+)(E[+-]?\d+)?([A-Z]*)$/i.exec(text);
  const suffix = m?.[3]?.toUpperCase() ?? '?';
  if (!m || !['', 'D', 'L'].includes(suffix)) throw new SqlUnsupported(`the literal ${text}`);
  const value = Number(m[1]! + (m[2] ?? ''));
  if (suffix === 'D' || m[2]) return { kind: 'number', value, integral: false };
  if (m[1]!.includes('.')) throw new SqlUnsupported(`the DECIMAL literal ${text} (write ${text}D for a DOUBLE)`);
  return { kind: 'number', value, integral: true };
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    if (t?.t === 'ident' && !t.quoted && t.v.toUpperCase() === word) {
      this.at++;
      return true;
    }
    return false;
  }

  private op(v: string): boolean {
    const t = this.peek();
    if (t?.t === 'op' && t.v === v) {
      this.at++;
      return true;
    }
    return false;
  }

  private expect(what: string, ok: boolean): void {
    if (!ok) throw new SqlUnsupported(`${describe(this.peek())} where ${what} was expected`);
  }

  statement(): SelectItem[] {
    this.expect('SELECT', this.keyword('SELECT'));
    const items: SelectItem[] = [];
    do items.push(this.item());
    while (this.op(','));
    this.expect('FROM', this.keyword('FROM'));
    const from = this.peek();
    this.expect('__THIS__', from?.t === 'ident' && from.v === '__THIS__');
    this.at++;
    this.op(';');
    if (this.peek()) throw new SqlUnsupported(`${describe(this.peek())} after FROM __THIS__ (only a plain SELECT … FROM __THIS__ runs)`);
    return items;
  }

  private item(): SelectItem {
    if (this.op('*')) return { kind: 'star' };
    const expr = this.expr();
    const named = this.keyword('AS');
    const t = this.peek();
    if (t?.t === 'ident' && (named || t.quoted || !['FROM'].includes(t.v.toUpperCase()))) {
      this.at++;
      return { kind: 'expr', expr, alias: t.v };
    }
    if (named) throw new SqlUnsupported(`${describe(t)} where a column name was expected after AS`);
    if (expr.kind === 'column') return { kind: 'expr', expr, alias: expr.name };
    throw new SqlUnsupported('an expression without AS <name> (its Spark-generated column name is not reproduced)');
  }

  private expr(): SqlExpr {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      if (t?.t === 'op' && (t.v === '+' || t.v === '-' || t.v === '||')) {
        this.at++;
        left = { kind: 'binary', op: t.v, left, right: this.term() };
      } else return left;
    }
  }

  private term(): SqlExpr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t?.t === 'op' && (t.v === '*' || t.v === '/' || t.v === '%')) {
        this.at++;
        left = { kind: 'binary', op: t.v, left, right: this.unary() };
      } else return left;
    }
  }

  private unary(): SqlExpr {
    if (this.op('-')) return { kind: 'negate', arg: this.unary() };
    if (this.op('+')) return this.unary();
    return this.primary();
  }

  private primary(): SqlExpr {
    const t = this.peek();
    if (!t) throw new SqlUnsupported('the end of the statement where a value was expected');
    if (this.op('(')) {
      const e = this.expr();
      this.expect(')', this.op(')'));
      return e;
    }
    this.at++;
    if (t.t === 'string') return { kind: 'string', value: t.v };
    if (t.t === 'number') return numberLiteral(t.v);
    if (t.t !== 'ident') throw new SqlUnsupported(`${describe(t)} where a value was expected`);
    const upper = t.v.toUpperCase();
    if (!t.quoted && upper === 'CAST' && this.op('(')) {
      const arg = this.expr();
      this.expect('AS', this.keyword('AS'));
      const type = this.peek();
      const to = type?.t === 'ident' ? CAST_TYPES[type.v.toUpperCase()] : undefined;
      if (!to) throw new SqlUnsupported(`a CAST to ${describe(type)} (supported: ${Object.keys(CAST_TYPES).join(', ')})`);
      this.at++;
      this.expect(')', this.op(')'));
      return { kind: 'cast', arg, to };
    }
    if (!t.quoted && this.op('(')) {
      const arity = SQL_FUNCTIONS[upper];
      if (!arity) throw new SqlUnsupported(`the function ${t.v} (supported: ${Object.keys(SQL_FUNCTIONS).join(', ')}, CAST)`);
      const args: SqlExpr[] = [];
      if (!this.op(')')) {
        do args.push(this.expr());
        while (this.op(','));
        this.expect(')', this.op(')'));
      }
      if (args.length < arity[0] || args.length > arity[1]) throw new SqlUnsupported(`${t.v} with ${args.length} arguments`);
      return { kind: 'call', fn: upper, args };
    }
    return { kind: 'column', name: t.v };
  }
}

function describe(t: Token | undefined): string {
  if (!t) return 'the end of the statement';
  return t.t === 'string' ? `the string '${t.v}'` : `"${t.v}"`;
}

/** Parses a SQLTransformer statement; throws SqlUnsupported naming what it cannot run. */
export function parseSelect(statement: string): SelectItem[] {
  return new Parser(tokenize(statement)).statement();
}
