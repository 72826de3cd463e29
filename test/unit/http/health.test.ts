import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { test } from 'node:test';
import { ServingCounts } from '../../../runtime/engine/counts.js';
import { boundPort, startHttp } from '../../../runtime/http/server.js';
import { healthRoute, readyRoute, type ServingState } from '../../../runtime/http/status.js';
import { createLogger } from '../../../runtime/log.js';
import { ModelStore } from '../../../runtime/packages/store.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { tempDir } from '../../helpers/packages.js';

/** A runner whose state the test sets: how long its oldest slice has been in hand, whether it gave up or waits. */
function fakeRunner() {
  return { isRunning: true, failed: false, sliceMs: 0, waiting: [] as ReturnType<ServingState['runner']['waitingPartitions']>, oldestSliceMs() { return this.sliceMs; }, waitingPartitions() { return this.waiting; } };
}

test('/healthz fails once a slice has been in hand past HEALTH_STALL_MS or the runner gave up, and not while a partition waits for a package; /readyz says why it is not ready', async (t) => {
  const store = new ModelStore(tempDir(), builtinRegistry(), createLogger('silent'), { watch: false });
  await store.start();
  const runner = fakeRunner();
  const state: ServingState = {
    store,
    runner,
    counts: new ServingCounts(),
    config: { healthStallMs: 1000, inputTopic: 'messages', predictionsTopic: 'predictions', errorsTopic: 'errors', modelPipeline: undefined, noModelPolicy: 'wait' },
  };
  const server: Server = await startHttp(0, { '/healthz': healthRoute(state), '/readyz': readyRoute(state) }, { host: '127.0.0.1', allowedHosts: [], token: undefined });
  t.after(async () => {
    server.close();
    await store.close();
  });
  const get = async (path: string): Promise<{ status: number; body: { ok?: boolean; reason?: string; ready?: boolean; reasons?: string[] } }> => {
    const res = await fetch(`http://127.0.0.1:${boundPort(server)}${path}`);
    return { status: res.status, body: (await res.json()) as never };
  };

  assert.equal((await get('/healthz')).status, 200);
  runner.sliceMs = 999;
  assert.equal((await get('/healthz')).status, 200, 'a slice in hand within the bound is normal work');
  runner.sliceMs = 1500;
  const stalled = await get('/healthz');
  assert.equal(stalled.status, 503);
  assert.match(stalled.body.reason!, /in hand for 1500 ms \(HEALTH_STALL_MS=1000\)/);
  runner.sliceMs = 0;
  runner.waiting = [{ topic: 'messages', partition: 0, offset: '7', reason: 'the default package "x" is not loaded', model: 'x', since: new Date() }];
  assert.equal((await get('/healthz')).status, 200, 'waiting for a package is not a liveness failure');
  const ready = await get('/readyz');
  assert.equal(ready.status, 503);
  assert.deepEqual(ready.body.reasons, ['messages/0 waits at offset 7: the default package "x" is not loaded']);
  runner.waiting = [];
  assert.equal((await get('/readyz')).status, 200);
  runner.failed = true;
  assert.equal((await get('/healthz')).status, 503, 'a runner that gave up is not alive');
});
