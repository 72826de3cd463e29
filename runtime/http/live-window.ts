/**
 * Rates and latency for the dashboard over a sliding window of ticks. Records arrive in
 * slices, so a single 500 ms tick holds either a whole slice or nothing: drawn per tick, a
 * steady 40/s looks like a sawtooth between 0 and 80, and latency exists only in the ticks
 * a slice landed in. Over a window of several ticks a steady stream draws a steady line,
 * and latency is missing only where the whole window saw no record.
 */
export interface TickCounts {
  readonly inputs: number;
  readonly predictions: number;
  readonly errors: number;
  readonly labels: Readonly<Record<string, number>>;
  readonly errorsByCode: Readonly<Record<string, number>>;
  /** End-to-end latencies (ms) sampled in this tick. */
  readonly latencies: readonly number[];
}

/** Per-second rates and latency percentiles over the window ending at a tick. */
export interface WindowStats {
  /** The window's length in ms (shorter while the runtime has run less than a window). */
  readonly spanMs: number;
  readonly inputs: number;
  readonly predictions: number;
  readonly errors: number;
  readonly labels: Record<string, number>;
  readonly errorsByCode: Record<string, number>;
  /** null when no record was sampled in the whole window: the chart leaves a gap. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number } | null;
}

export class SlidingWindow {
  private readonly ticks: TickCounts[] = [];

  constructor(
    private readonly tickMs: number,
    private readonly windowTicks: number,
  ) {}

  /** Adds the tick just closed and returns the window's figures including it. */
  push(tick: TickCounts): WindowStats {
    this.ticks.push(tick);
    if (this.ticks.length > this.windowTicks) this.ticks.shift();
    const spanMs = this.ticks.length * this.tickMs;
    const perSecond = (n: number): number => (n * 1000) / spanMs;
    const sum = (key: 'inputs' | 'predictions' | 'errors'): number => perSecond(this.ticks.reduce((s, t) => s + t[key], 0));
    const sumMap = (key: 'labels' | 'errorsByCode'): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const t of this.ticks) for (const [k, n] of Object.entries(t[key])) out[k] = (out[k] ?? 0) + n;
      for (const k of Object.keys(out)) out[k] = perSecond(out[k]!);
      return out;
    };
    return {
      spanMs,
      inputs: sum('inputs'),
      predictions: sum('predictions'),
      errors: sum('errors'),
      labels: sumMap('labels'),
      errorsByCode: sumMap('errorsByCode'),
      latencyMs: percentiles(this.ticks.flatMap((t) => t.latencies)),
    };
  }
}

function percentiles(values: number[]): WindowStats['latencyMs'] {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
}
