/**
 * Progress of `mlstream produce` on stderr: a redrawn bar with count, rate and ETA when
 * stderr is a terminal, a plain line every few seconds otherwise (logs, CI), or nothing.
 */
export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressState {
  readonly acknowledged: number;
  readonly failed: number;
  /** Share of the work done, 0…1 (input bytes behind acknowledged records, or count / --limit). */
  readonly fraction: number;
}

const BAR_REDRAW_MS = 100;
const LINE_EVERY_MS = 2000;
const RATE_WINDOW_MS = 3000;

export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private state: ProgressState = { acknowledged: 0, failed: 0, fraction: 0 };
  private readonly samples: Array<{ at: number; done: number }> = [];

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly mode: ProgressMode,
    private readonly label: string,
  ) {}

  start(): void {
    if (this.mode === 'off') return;
    this.timer = setInterval(() => this.render(false), this.mode === 'bar' ? BAR_REDRAW_MS : LINE_EVERY_MS);
    this.timer.unref();
  }

  update(state: ProgressState): void {
    this.state = state;
  }

  /** Draws the final state (the bar at its last value, then a newline). */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.mode === 'bar') this.render(true);
  }

  private render(final: boolean): void {
    const now = performance.now();
    const { acknowledged, failed, fraction } = this.state;
    const done = acknowledged + failed;
    this.samples.push({ at: now, done });
    while (this.samples.length > 2 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const windowRate = now > first.at ? ((done - first.done) * 1000) / (now - first.at) : 0;
    const elapsed = (now - this.started) / 1000;
    const rate = final || this.samples.length < 3 ? done / Math.max(elapsed, 1e-3) : windowRate;
    const eta = fraction > 0 && fraction < 1 ? (elapsed * (1 - fraction)) / fraction : 0;
    const pct = `${Math.floor(Math.min(fraction, 1) * 100)}%`.padStart(4);
    const counts = `${count(acknowledged)} acked${failed ? `, ${count(failed)} failed` : ''}`;
    const speed = `${compact(rate)} msg/s`;
    if (this.mode === 'lines') {
      this.out.write(`${this.label}: ${counts} (${pct.trim()}), ${speed}, ETA ${duration(eta)}\n`);
      return;
    }
    const tail = ` ${pct}  ${counts}  ${speed}  ${final ? `in ${duration(elapsed)}` : `ETA ${duration(eta)}`}`;
    const width = Math.max(10, Math.min(40, (this.out.columns || 80) - tail.length - this.label.length - 4));
    const filled = Math.round(Math.min(fraction, 1) * width);
    this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}\x1b[K${final ? '\n' : ''}`);
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function compact(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
