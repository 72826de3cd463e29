import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { RuntimeMetrics } from '../../runtime/http/metrics.js';
import { createLogger } from '../../runtime/log.js';
import { ModelStore } from '../../runtime/packages/store.js';
import { builtinRegistry } from '../../runtime/stages/index.js';

/** A model store over a fresh folder (filled by `fill`) and metrics over it, all removed after the test. */
export async function metricsOverStore(t: TestContext, fill: (dir: string) => void, options: ConstructorParameters<typeof ModelStore>[3]): Promise<{ work: string; store: ModelStore; metrics: RuntimeMetrics }> {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-metrics-store-'));
  fill(work);
  const store = new ModelStore(work, builtinRegistry(), createLogger('silent'), options);
  await store.start();
  const metrics = new RuntimeMetrics(store);
  t.after(async () => {
    metrics.close();
    await store.close();
    rmSync(work, { recursive: true, force: true });
  });
  return { work, store, metrics };
}

