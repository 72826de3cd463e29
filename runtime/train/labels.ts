/**
 * Labels as the models learn them: numbers for regression; class indices 0, 1, … for
 * classification. String labels are indexed as Spark's StringIndexer orders them
 * (stringOrderType frequencyDesc: most frequent first, ties alphabetically), counted over
 * the first micro-batch that carries them; a label first seen later gets the next free
 * index, so an index never changes meaning once a model has learned it. Numeric class
 * labels must already be indices. The index is written to the package's `output_labels`,
 * so a served prediction reads as the label that was trained on.
 */

export type LabelKind = 'class' | 'number';

export class LabelIndex {
  private readonly index = new Map<string, number>();

  constructor(
    readonly kind: LabelKind,
    /** The most classes the model can learn (2 for logistic regression). */
    private readonly maxClasses: number,
    labels: readonly string[] = [],
  ) {
    labels.forEach((l, i) => this.index.set(l, i));
  }

  get labels(): string[] {
    return [...this.index.keys()];
  }

  /**
   * Adds the labels of a micro-batch not yet indexed, in StringIndexer's order. Labels
   * beyond the model's classes are left out (their records fail with a reason).
   */
  learn(values: readonly unknown[]): void {
    if (this.kind !== 'class') return;
    const counts = new Map<string, number>();
    for (const v of values) {
      if (typeof v !== 'string' || this.index.has(v)) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const fresh = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [label] of fresh) if (this.index.size < this.maxClasses) this.index.set(label, this.index.size);
  }

  /** The number a model learns for a label value, or why it cannot. */
  encode(value: unknown): number | string {
    if (value === undefined || value === null) return 'the label is missing';
    if (this.kind === 'number') {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? n : `the label ${JSON.stringify(value)} is not a number`;
    }
    if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= 0 && value < this.maxClasses) return value;
      return `the class label ${value} is not an index in [0, ${this.maxClasses - 1}]`;
    }
    if (typeof value !== 'string') return `the label ${JSON.stringify(value)} is neither a string nor a number`;
    const i = this.index.get(value);
    return i ?? `the label "${value}" would be class ${this.index.size + 1} of a ${this.maxClasses}-class model`;
  }

  /** config.json's output_labels: raw prediction text ("1") → label. Numeric labels pass through. */
  outputLabels(): Record<string, string> {
    return Object.fromEntries([...this.index].map(([label, i]) => [String(i), label]));
  }
}
