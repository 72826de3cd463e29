/**
 * SQLTransformer for the statements saved pipelines commonly hold: `SELECT *, <expr> AS
 * <name>, … FROM __THIS__` (sql-parser.ts says which expressions). Expressions are evaluated
 * column by column with the semantics of the Spark that saved the stage: up to 3.5 the
 * non-ANSI rules (a null operand gives null, division by zero gives null, INT arithmetic
 * wraps), from 4.0 ANSI mode, Spark's new default (those cases fail the row). Both: a
 * logarithm of a non-positive number gives null, numbers read as text as Java prints them.
 * A statement outside that subset refuses the package, naming the statement and the reason.
 */
import { type Column, type Frame, type NarrowNumber, PipelineError } from '../../pipeline/frame.js';
import type { AttributeSchema, ColumnAttributes } from '../../pipeline/attributes.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { javaDoubleString } from './common.js';
import { type SelectItem, type SqlExpr, SqlUnsupported, parseSelect } from './sql-parser.js';
import { failRow, savedBefore } from './stage-helpers.js';

type Value =
  | { readonly type: 'string'; readonly values: readonly (string | null)[] }
  | { readonly type: 'number'; readonly values: Float64Array; readonly nulls: Uint8Array; readonly sqlType: NarrowNumber | undefined };

const INTEGRAL = new Set<NarrowNumber | undefined>(['INTEGER', 'LONG']);

/** A column named in the statement: the exact name, else the one name equal ignoring case (Spark's default). */
function resolve(name: string, available: Iterable<string>): string {
  const names = [...available];
  if (names.includes(name)) return name;
  const same = names.filter((n) => n.toLowerCase() === name.toLowerCase());
  return same.length === 1 ? same[0]! : name;
}

function columnsOf(expr: SqlExpr, out: string[] = []): string[] {
  switch (expr.kind) {
    case 'column':
      out.push(expr.name);
      break;
    case 'negate':
    case 'cast':
      columnsOf(expr.arg, out);
      break;
    case 'binary':
      columnsOf(expr.left, out);
      columnsOf(expr.right, out);
      break;
    case 'call':
      for (const a of expr.args) columnsOf(a, out);
      break;
  }
  return out;
}

/**
 * What an expression's column is to later stages (attributes.ts): a plain column reference
 * keeps that column's attributes, as Spark's aliases keep its metadata; a number is a number
 * with none; text is neither.
 */
function shapeOf(expr: SqlExpr, before: AttributeSchema): ColumnAttributes | undefined {
  switch (expr.kind) {
    case 'column':
      return before.get(resolve(expr.name, before.keys()));
    case 'string':
      return undefined;
    case 'cast':
      return expr.to === 'string' ? undefined : { kind: 'scalar' };
    case 'binary':
      return expr.op === '||' ? undefined : { kind: 'scalar' };
    case 'call':
      return ['CONCAT', 'LOWER', 'LCASE', 'UPPER', 'UCASE', 'TRIM'].includes(expr.fn) ? undefined : { kind: 'scalar' };
    default:
      return { kind: 'scalar' };
  }
}

function numbers(n: number, sqlType: NarrowNumber | undefined, f: (i: number) => number | null): Value {
  const values = new Float64Array(n);
  const nulls = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = f(i);
    if (v === null) {
      nulls[i] = 1;
      values[i] = NaN;
    } else values[i] = v;
  }
  return { type: 'number', values, nulls, sqlType };
}

function strings(n: number, f: (i: number) => string | null): Value {
  return { type: 'string', values: Array.from({ length: n }, (_, i) => f(i)) };
}

/** Spark's implicit cast of a string operand to DOUBLE: surrounding spaces allowed, anything else null. */
function parseNumber(s: string | null): number | null {
  if (s === null) return null;
  const t = s.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(t) && !/^[+-]?(Infinity|NaN)$/.test(t)) return null;
  return Number(t.replace(/[dDfF]$/, ''));
}

/**
 * One evaluation over a batch. Spark 4 runs SQL in ANSI mode by default: where the older
 * rules give null (division by zero, a string that is no number) or wrap (INT overflow), the
 * row fails instead, with the reason.
 */
interface Evaluation {
  readonly frame: Frame;
  readonly n: number;
  readonly ansi: boolean;
  /** Row → why it fails (the first reason found). */
  readonly failures: Map<number, string>;
}

function fail(c: Evaluation, i: number, why: string): null {
  if (!c.failures.has(i)) c.failures.set(i, why);
  return null;
}

function asNumber(v: Value, c: Evaluation): Extract<Value, { type: 'number' }> {
  if (v.type === 'number') return v;
  return numbers(c.n, undefined, (i) => {
    const s = v.values[i]!;
    const x = parseNumber(s);
    return x === null && s !== null && c.ansi ? fail(c, i, `the string '${s}' cannot be cast to a number (ANSI mode, Spark 4)`) : x;
  }) as Extract<Value, { type: 'number' }>;
}

function asText(v: Value, i: number): string | null {
  if (v.type === 'string') return v.values[i]!;
  if (v.nulls[i]) return null;
  const x = v.values[i]!;
  return INTEGRAL.has(v.sqlType) ? String(x) : javaDoubleString(v.sqlType === 'FLOAT' ? Math.fround(x) : x);
}

/** The type of INT/BIGINT/FLOAT/DOUBLE arithmetic on two operands, as Spark widens them. */
function widen(a: NarrowNumber | undefined, b: NarrowNumber | undefined): NarrowNumber | undefined {
  if (INTEGRAL.has(a) && INTEGRAL.has(b)) return a === 'LONG' || b === 'LONG' ? 'LONG' : 'INTEGER';
  return a === 'FLOAT' && b === 'FLOAT' ? 'FLOAT' : undefined;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Java's (int) of a double: NaN is 0, out-of-range values saturate. */
function javaInt(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.max(INT_MIN, Math.min(INT_MAX, Math.trunc(x)));
}

/** INT + - * as Java computes them: the result wraps around 32 bits. */
function intArithmetic(op: string, x: number, y: number): number {
  if (op === '*') return Math.imul(x, y);
  return (op === '+' ? x + y : x - y) | 0;
}

const LOGS: Record<string, (x: number) => number> = { LN: Math.log, LOG10: Math.log10, LOG2: Math.log2 };

function evaluate(expr: SqlExpr, c: Evaluation): Value {
  const n = c.n;
  switch (expr.kind) {
    case 'string':
      return strings(n, () => expr.value);
    case 'number':
      return numbers(n, expr.integral ? 'INTEGER' : undefined, () => expr.value);
    case 'column':
      return columnValue(c.frame, resolve(expr.name, c.frame.columns.keys()));
    case 'negate': {
      const a = asNumber(evaluate(expr.arg, c), c);
      return numbers(n, a.sqlType, (i) => (a.nulls[i] ? null : -a.values[i]!));
    }
    case 'cast':
      return cast(evaluate(expr.arg, c), expr.to, c);
    case 'binary':
      return binary(expr.op, evaluate(expr.left, c), evaluate(expr.right, c), c);
    case 'call':
      return call(expr.fn, expr.args.map((a) => evaluate(a, c)), c);
  }
}

function columnValue(frame: Frame, name: string): Value {
  const col = frame.get(name);
  if (col.type === 'string') return col;
  if (col.type === 'double') return { type: 'number', values: col.values, nulls: col.nulls ?? new Uint8Array(col.values.length), sqlType: col.sqlType };
  throw new PipelineError(`SQLTransformer: column "${name}" is ${col.type}; the statement can read only strings and numbers`);
}

function cast(v: Value, to: 'string' | 'double' | 'int', c: Evaluation): Value {
  if (to === 'string') return strings(c.n, (i) => asText(v, i));
  const a = asNumber(v, c);
  if (to === 'double') return numbers(c.n, undefined, (i) => (a.nulls[i] ? null : a.values[i]!));
  return numbers(c.n, 'INTEGER', (i) => {
    if (a.nulls[i]) return null;
    const x = a.values[i]!;
    const whole = Math.trunc(x);
    if (c.ansi && !(whole >= INT_MIN && whole <= INT_MAX)) return fail(c, i, `${javaDoubleString(x)} does not fit an INT (ANSI mode, Spark 4)`);
    return javaInt(x);
  });
}

function binary(op: string, l: Value, r: Value, c: Evaluation): Value {
  if (op === '||') return strings(c.n, (i) => concatAt([l, r], i));
  const a = asNumber(l, c);
  const b = asNumber(r, c);
  const type = op === '/' ? undefined : widen(a.sqlType, b.sqlType);
  const round = type === 'FLOAT' ? Math.fround : (x: number) => x;
  return numbers(c.n, type, (i) => {
    if (a.nulls[i] || b.nulls[i]) return null;
    const x = a.values[i]!;
    const y = b.values[i]!;
    if ((op === '/' || op === '%') && y === 0) return c.ansi ? fail(c, i, 'division by zero (ANSI mode, Spark 4)') : null;
    if (op === '/') return x / y;
    if (op === '%') return round(x % y);
    if (type === 'INTEGER') {
      const wrapped = intArithmetic(op, x, y);
      const exact = op === '+' ? x + y : op === '-' ? x - y : x * y;
      return c.ansi && wrapped !== exact ? fail(c, i, `INT ${op} overflows (ANSI mode, Spark 4)`) : wrapped;
    }
    return round(op === '+' ? x + y : op === '-' ? x - y : x * y);
  });
}

function concatAt(args: readonly Value[], i: number): string | null {
  let s = '';
  for (const a of args) {
    const t = asText(a, i);
    if (t === null) return null;
    s += t;
  }
  return s;
}

function call(fn: string, args: readonly Value[], c: Evaluation): Value {
  const n = c.n;
  const [first] = args as [Value, ...Value[]];
  switch (fn) {
    case 'CONCAT':
      return strings(n, (i) => concatAt(args, i));
    case 'LOWER':
    case 'LCASE':
      return strings(n, (i) => asText(first, i)?.toLowerCase() ?? null);
    case 'UPPER':
    case 'UCASE':
      return strings(n, (i) => asText(first, i)?.toUpperCase() ?? null);
    case 'TRIM':
      // Spark's trim strips the space character only, not tabs or newlines.
      return strings(n, (i) => asText(first, i)?.replace(/^ +| +$/g, '') ?? null);
    case 'POW':
    case 'POWER': {
      const a = asNumber(first, c);
      const b = asNumber(args[1]!, c);
      return numbers(n, undefined, (i) => (a.nulls[i] || b.nulls[i] ? null : Math.pow(a.values[i]!, b.values[i]!)));
    }
    default: {
      const a = asNumber(first, c);
      if (fn === 'ABS') return numbers(n, a.sqlType, (i) => (a.nulls[i] ? null : Math.abs(a.values[i]!)));
      const log = LOGS[fn];
      if (log) return numbers(n, undefined, (i) => (a.nulls[i] || a.values[i]! <= 0 ? null : log(a.values[i]!)));
      const f = fn === 'SQRT' ? Math.sqrt : Math.exp;
      return numbers(n, undefined, (i) => (a.nulls[i] ? null : f(a.values[i]!)));
    }
  }
}

function toColumn(v: Value): Column {
  if (v.type === 'string') return { type: 'string', values: [...v.values] };
  const hasNull = v.nulls.some((x) => x === 1);
  return { type: 'double', values: v.values, ...(hasNull ? { nulls: v.nulls } : {}), ...(v.sqlType ? { sqlType: v.sqlType } : {}) };
}

const sqlTransformer: StageFactory = (ctx) => {
  const statement = ctx.params.string('statement');
  let items: SelectItem[];
  try {
    items = parseSelect(statement);
  } catch (e) {
    if (!(e instanceof SqlUnsupported)) throw e;
    throw new Error(`SQLTransformer ${ctx.metadata.uid} cannot run the statement ${JSON.stringify(statement)}: ${e.message} is not supported. Replace it with built-in feature stages or a plugin stage.`);
  }
  const exprs = items.filter((it) => it.kind === 'expr');
  const keepAll = items.some((it) => it.kind === 'star');
  const referenced = [...new Set(exprs.flatMap((it) => columnsOf(it.expr)))];
  const outputs = exprs.map((it) => it.alias);
  const ansi = !savedBefore(ctx.metadata, 4);
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: referenced,
    outputCols: outputs,
    columnsFor: (available) => ({ inputCols: referenced.map((c) => resolve(c, available)), outputCols: outputs }),
    attributes: (before) => new Map(exprs.flatMap((it) => {
      const shape = shapeOf(it.expr, before);
      return shape ? [[it.alias, shape] as const] : [];
    })),
    transform(frame) {
      const evaluation: Evaluation = { frame, n: frame.length, ansi, failures: new Map() };
      const computed = exprs.map((it) => toColumn(evaluate(it.expr, evaluation)));
      for (const [i, why] of evaluation.failures) failRow(frame, i, `SQLTransformer: ${why}`, ctx.metadata.uid);
      if (!keepAll) {
        for (const name of [...frame.columns.keys()]) frame.columns.delete(name);
      }
      computed.forEach((col, k) => frame.set(outputs[k]!, col));
    },
  };
};

export const sqlStages: Record<string, StageFactory> = {
  'org.apache.spark.ml.feature.SQLTransformer': sqlTransformer,
};
