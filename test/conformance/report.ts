import type { FixtureResult } from './types.js';

/** The README sections the conformance script rewrites, between these markers. */
export const SECTIONS = {
  conformance: { start: '<!-- conformance:start -->', end: '<!-- conformance:end -->' },
  stages: { start: '<!-- spark-stages:start -->', end: '<!-- spark-stages:end -->' },
  /** README: mlstream's coverage beside MLeap's and JPMML-SparkML's (coverage.ts). */
  coverage: { start: '<!-- spark-coverage:start -->', end: '<!-- spark-coverage:end -->' },
  /** docs/spark-stages.md: the issue 17 catalogue and its evidence (catalogue.ts). */
  catalogue: { start: '<!-- spark-catalogue:start -->', end: '<!-- spark-catalogue:end -->' },
} as const;

/** Replaces what lies between a section's markers; the text is unchanged when they are absent. */
export function replaceSection(text: string, section: keyof typeof SECTIONS, content: string): { text: string; found: boolean } {
  const { start, end } = SECTIONS[section];
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return { text, found: false };
  return { text: `${text.slice(0, a + start.length)}\n${content.trim()}\n${text.slice(b)}`, found: true };
}

export function sectionContent(text: string, section: keyof typeof SECTIONS): string | undefined {
  const { start, end } = SECTIONS[section];
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  return a < 0 || b < a ? undefined : text.slice(a + start.length, b).trim();
}

/** The built-in Spark stage classes, grouped by package, as a README list. */
export function renderStageList(classes: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const cls of [...classes].sort()) {
    const dot = cls.lastIndexOf('.');
    const pkg = cls.slice(0, dot);
    groups.set(pkg, [...(groups.get(pkg) ?? []), cls.slice(dot + 1)]);
  }
  return [...groups].map(([pkg, names]) => `- \`${pkg}\`: ${names.join(', ')}`).join('\n');
}

/** Which Spark stage classes the README's list names (to check it against the registry). */
export function parseStageList(list: string): string[] {
  const out: string[] = [];
  for (const line of list.split('\n')) {
    const m = /^- `([\w.]+)`: (.*)$/.exec(line.trim());
    if (m) for (const name of m[2]!.split(',')) out.push(`${m[1]}.${name.trim()}`);
  }
  return out.sort();
}

const CHECK: Record<FixtureResult['mode'], string> = {
  'spark-outputs': "Spark's outputs",
  sample: 'sample rows',
  synthetic: 'synthetic rows',
  transformer: 'feature stages only',
  refused: 'refusal',
  loaded: 'load only',
  pending: 'pending',
};

function exp(x: number | undefined): string {
  if (x === undefined) return '—';
  return x === 0 ? '0' : x.toExponential(1);
}

function notes(r: FixtureResult): string {
  const parts: string[] = [];
  if (r.mode === 'spark-outputs') {
    if (r.maxValueError === undefined) parts.push(r.maxProbabilityError === undefined ? `${r.target} (Spark wrote no probabilities)` : `${r.target} and its probabilities`);
    else parts.push(r.maxValueError > 0 ? `${r.target} within ${exp(r.maxValueError)} (relative above 1)` : `${r.target} equal`);
  }
  if (r.mode === 'refused' || r.mode === 'loaded' || r.mode === 'pending') parts.push(shortMessage(r.message ?? ''));
  if (r.mode === 'transformer' && r.maxValueError !== undefined) parts.push(r.maxValueError > 0 ? `vectors within ${exp(r.maxValueError)}` : 'vectors equal');
  if (r.mode === 'transformer') parts.push(`served as feature stages: the prediction is the output vector, ${r.rows} records`);
  const chain = r.message?.indexOf(' Output ') ?? -1;
  if (chain >= 0) parts.push(`o${r.message!.slice(chain + 2).replace(/\.$/, '')}`);
  const skipped = r.rejected.ROW_SKIPPED;
  if (skipped) parts.push(`${skipped} rows dropped by handleInvalid=skip`);
  if (r.note) parts.push(r.note);
  if (r.problems.length) parts.push(`**${r.problems.length} problem(s)**: ${r.problems[0]}`);
  return parts.join('; ').replaceAll('|', '\\|');
}

/** The refusal without the temp path it was found at, cut to its first clause (and a table cell's width). */
function shortMessage(message: string): string {
  const text = message.replace(/^<package>\S*: /, '');
  const cut = text.search(/ \(available:|\. Re-save/);
  const clause = cut > 0 ? text.slice(0, cut) : text;
  return clause.length > 240 ? `${clause.slice(0, 240)}…` : clause;
}

export function renderTable(results: readonly FixtureResult[]): string {
  const lines = [
    '| fixture | Spark | stages (active) | check | rows | matches | max probability error | accuracy | notes |',
    '|---|---|---|---|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const matches = r.matches === undefined ? '—' : `${r.matches}/${r.sparkRows ?? r.rows}`;
    const accuracy = r.accuracy ? `${((100 * r.accuracy.correct) / r.accuracy.total).toFixed(1)}% (${r.accuracy.correct}/${r.accuracy.total})` : '—';
    const stages = r.mode === 'refused' ? String(r.stages) : `${r.stages} (${r.activeStages})`;
    lines.push(`| ${r.name} | ${r.sparkVersion} | ${stages} | ${CHECK[r.mode]} | ${r.rows} | ${matches} | ${exp(r.maxProbabilityError)} | ${accuracy} | ${notes(r)} |`);
  }
  return lines.join('\n');
}
