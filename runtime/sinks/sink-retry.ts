/**
 * How a sink write is retried without re-producing its slice. A failed insert is tried
 * again on its own, with a backoff, while the runner keeps the slice in hand (and keeps
 * heartbeating): outputs already on Kafka are not sent again. Once the slice's delivery
 * deadline has passed, the configured policy decides: `pause` keeps retrying at a slow pace
 * (the slice stays uncommitted, its partition waits — no storm of retries or consumer
 * restarts); `exit` gives up, so the runtime exits 1 and a restart resumes at the last
 * commit. Every error is retried, SQL ones included: a constraint, a privilege or a missing
 * table is the operator's to fix, and once fixed the paused slice goes through, nothing lost.
 */
import type { Logger } from '../log.js';

export type DeadlinePolicy = 'pause' | 'exit';

export class SinkError extends Error {
  override name = 'SinkError';
}

const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 5_000;
/** Past the deadline in `pause` mode: one attempt, and one log line, per this interval. */
const PAUSED_RETRY_MS = 10_000;

export interface RetryOptions {
  readonly deadlineAt: number;
  readonly onDeadline: DeadlinePolicy;
  readonly what: string;
  readonly log: Logger;
  /** True once the runtime is stopping: the write gives up at the next attempt. */
  readonly stopping: () => boolean;
  /** Resolves early when the runtime starts stopping, cutting a backoff short. */
  readonly interrupted: Promise<void>;
}

/** Runs `attempt` until it succeeds, the stop, or (with `exit`) the deadline. */
export async function retrySinkWrite<T>(attempt: () => Promise<T>, o: RetryOptions): Promise<T> {
  let paused = false;
  for (let n = 1; ; n++) {
    try {
      const out = await attempt();
      if (n > 1) o.log.info({ attempts: n, slice: o.what, wasPaused: paused }, 'postgres sink: slice written after retrying');
      return out;
    } catch (e) {
      const reason = describe(e);
      if (o.stopping()) throw new SinkError(`stopping while ${o.what} was not written to PostgreSQL: ${reason}`);
      const late = Date.now() >= o.deadlineAt;
      if (late && o.onDeadline === 'exit') throw new SinkError(`${o.what} was not written to PostgreSQL within the delivery timeout (${n} attempts): ${reason}`);
      if (late && !paused) {
        paused = true;
        o.log.error({ slice: o.what, reason, attempts: n }, 'postgres sink: past the delivery timeout; the partition is paused with this slice uncommitted and the insert retried every 10 s');
      } else if (!late && (n === 1 || n % 5 === 0)) {
        o.log.warn({ slice: o.what, reason, attempt: n }, 'postgres sink: insert failed; the slice is not committed and will be retried');
      } else if (late) {
        o.log.warn({ slice: o.what, reason, attempt: n }, 'postgres sink: still paused');
      }
      const pause = paused ? PAUSED_RETRY_MS : Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (n - 1), Math.max(0, o.deadlineAt - Date.now()));
      await Promise.race([sleep(pause), o.interrupted]);
    }
  }
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return `${err.code ? `${err.code} ` : ''}${err.message ?? String(e)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
