import type { Logger } from '../log.js';

export interface DeliveryCounts {
  /** Output messages (predictions and errors) acknowledged by the brokers. */
  readonly acknowledged: number;
  /** Output messages whose produce finally failed (after the producer's retries). */
  readonly failed: number;
}

/**
 * Running counts of output produces, for the logs and for metrics: a Prometheus collector
 * reads `counts()` at scrape time (or subscribes with `onChange`), so nothing here knows
 * about metrics. Updated once per slice, never per message.
 */
export class DeliveryReport {
  private acknowledged = 0;
  private failed = 0;
  private readonly listeners = new Set<(counts: DeliveryCounts, delta: DeliveryCounts) => void>();

  counts(): DeliveryCounts {
    return { acknowledged: this.acknowledged, failed: this.failed };
  }

  recordAcknowledged(n: number): void {
    this.acknowledged += n;
    this.emit({ acknowledged: n, failed: 0 });
  }

  recordFailed(n: number): void {
    this.failed += n;
    this.emit({ acknowledged: 0, failed: n });
  }

  /** Called after each change with the totals and what changed; returns an unsubscribe function. */
  onChange(listener: (counts: DeliveryCounts, delta: DeliveryCounts) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Logs the counts every `intervalMs` while they change; the returned function stops and logs them once more. */
  startLogging(log: Logger, intervalMs: number): () => void {
    let logged = '';
    const write = (): void => {
      const counts = this.counts();
      const key = `${counts.acknowledged}/${counts.failed}`;
      if (key === logged) return;
      logged = key;
      log.info(counts, 'delivery report');
    };
    const timer = setInterval(write, intervalMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      write();
    };
  }

  private emit(delta: DeliveryCounts): void {
    if (this.listeners.size === 0) return;
    const counts = this.counts();
    for (const l of this.listeners) l(counts, delta);
  }
}
