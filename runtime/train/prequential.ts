import type { Algorithm, Outcome } from './model.js';

/**
 * Prequential evaluation (test-then-train): every record is first predicted by the model
 * as it stands, then learned. The last `size` outcomes are kept in a ring, so the figures
 * describe the model now rather than its whole history: accuracy and log loss for
 * classification, RMSE for regression, mean squared distance to the closest centre for
 * k-means. A learning curve keeps one point per micro-batch (thinned to at most
 * MAX_CURVE points by dropping every other one, so long runs keep their whole shape).
 */

export interface WindowSummary {
  readonly records: number;
  readonly window: number;
  readonly accuracy?: number;
  readonly logLoss?: number;
  readonly rmse?: number;
  readonly cost?: number;
  /** The current model on the held-out records (with --holdout-topic). */
  readonly holdout?: WindowSummary;
}

export interface PrequentialSnapshot {
  readonly first: number[];
  readonly second: number[];
  readonly filled: number;
  readonly next: number;
  readonly seen: number;
  readonly curve: WindowSummary[];
}

const MAX_CURVE = 2000;

export class Prequential {
  /** Accuracy hits, squared errors or costs. */
  private readonly first: Float64Array;
  /** Log losses (classification only). */
  private readonly second: Float64Array;
  private filled = 0;
  private next = 0;
  private seen = 0;
  curve: WindowSummary[] = [];

  constructor(
    private readonly algorithm: Algorithm,
    readonly size: number,
  ) {
    this.first = new Float64Array(size);
    this.second = new Float64Array(size);
  }

  add(o: Outcome): void {
    const a = o.correct !== undefined ? (o.correct ? 1 : 0) : (o.squaredError ?? o.cost ?? 0);
    this.first[this.next] = a;
    this.second[this.next] = o.logLoss ?? 0;
    this.next = (this.next + 1) % this.size;
    this.filled = Math.min(this.filled + 1, this.size);
    this.seen++;
  }

  summary(): WindowSummary {
    const n = this.filled;
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      a += this.first[i]!;
      b += this.second[i]!;
    }
    const base = { records: this.seen, window: n };
    if (n === 0) return base;
    if (this.algorithm === 'logistic-sgd') return { ...base, accuracy: a / n, logLoss: b / n };
    if (this.algorithm === 'linear-sgd') return { ...base, rmse: Math.sqrt(a / n) };
    return { ...base, cost: a / n };
  }

  /** Adds the current summary (and the hold-out figures, if any) to the learning curve. */
  mark(holdout?: WindowSummary): void {
    if (this.filled === 0) return;
    this.curve.push(holdout ? { ...this.summary(), holdout } : this.summary());
    if (this.curve.length > MAX_CURVE) this.curve = this.curve.filter((_, i) => i % 2 === 1);
  }

  snapshot(): PrequentialSnapshot {
    return { first: Array.from(this.first), second: Array.from(this.second), filled: this.filled, next: this.next, seen: this.seen, curve: this.curve };
  }

  restore(s: PrequentialSnapshot): void {
    if (s.first.length !== this.size) return;
    this.first.set(s.first);
    this.second.set(s.second);
    this.filled = s.filled;
    this.next = s.next;
    this.seen = s.seen;
    this.curve = s.curve;
  }
}
