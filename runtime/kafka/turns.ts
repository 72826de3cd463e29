/**
 * At most `limit` holders at once, served in the order they asked: how many partitions' batches
 * run together (the runner's fetch-ahead lanes on kafkajs, the librdkafka adapter's batches).
 */
export class Turns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves when a turn is free; give it back with `end()`. */
  take(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A turn handed straight to the next waiter, if any. */
  end(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
