import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { loadPackage, type ModelVersion } from '../packages/package.js';
import { loadPlugins } from '../pipeline/plugins.js';
import type { StageRegistry } from '../pipeline/registry.js';
import { builtinRegistry } from '../stages/index.js';
import { planFor } from './plan.js';
import { useTextLoop } from '../native/text-loop.js';
import { groupPositions, toWire, unpack, type FromWorker, type ToWorker } from './pool-protocol.js';

/**
 * A worker of the pool (pool.ts): loads the same package versions the main thread loaded,
 * from the same folders, and runs plans on the groups it is sent. Decoding, validation,
 * the stages and output encoding happen here; Kafka stays on the main thread.
 */

const port = parentPort;
if (!port) throw new Error('pool-worker.ts runs only as a worker thread');

let registry: StageRegistry | undefined;
const versions = new Map<string, Promise<ModelVersion>>();
const send = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'init':
      useTextLoop(m.textLoop);
      void init(m.plugins, m.remoteAllowedHosts, m.cwd);
      return;
    case 'load':
      void load(m.ref.key, m.ref.dir, m.ref.name, m.ref.version, m.ref.contentHash);
      return;
    case 'unload': {
      const v = versions.get(m.key);
      versions.delete(m.key);
      void v?.then((model) => model.pipeline.dispose()).catch(() => undefined);
      return;
    }
    case 'run':
      void run(m);
      return;
  }
});

async function init(plugins: readonly string[], remoteAllowedHosts: readonly string[] | undefined, cwd: string): Promise<void> {
  try {
    const r = builtinRegistry(remoteAllowedHosts ? { remoteAllowedHosts: [...remoteAllowedHosts] } : {});
    await loadPlugins(plugins, r, cwd);
    registry = r;
    send({ type: 'ready', ...osThreadId() });
  } catch (e) {
    send({ type: 'init-failed', reason: (e as Error).message });
  }
}

async function load(key: string, dir: string, name: string, version: string, contentHash: string): Promise<void> {
  if (!registry) return send({ type: 'load-failed', key, reason: 'the worker has no stage registry' });
  const loading = loadPackage(dir, registry, name, undefined, version);
  versions.set(key, loading);
  try {
    const model = await loading;
    // The folder may have changed since the main thread loaded it: this copy would not be that version.
    if (model.contentHash !== contentHash) {
      versions.delete(key);
      await model.pipeline.dispose();
      return send({ type: 'load-failed', key, reason: 'the folder changed since the main thread loaded it' });
    }
    planFor(model);
    send({ type: 'loaded', key });
  } catch (e) {
    versions.delete(key);
    send({ type: 'load-failed', key, reason: (e as Error).message });
  }
}

async function run(m: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  try {
    const model = await versions.get(m.key);
    if (!model) throw new Error(`version ${m.key} is not loaded in this worker`);
    const started = performance.now();
    const messages = unpack(m.messages);
    const done = await planFor(model).run(messages, groupPositions(messages.length), m.topics, m.limits, m.wantRecords);
    // The values were read into strings and numbers (decoders copy, outputs are text): nothing
    // the run returns or keeps is a view of the pack buffer, which goes back for reuse.
    // Transferring it detaches it here, so a view kept by mistake would read nothing rather
    // than the next group's bytes.
    // Shared memory (a fetch response both threads read) is not the main thread's to reuse.
    const spare = m.messages.bytes instanceof ArrayBuffer ? m.messages.bytes : undefined;
    send({ type: 'done', id: m.id, run: toWire(done, m.wantRecords, performance.now() - started), spare }, spare ? [spare] : []);
  } catch (e) {
    send({ type: 'failed', id: m.id, reason: (e as Error).message });
  }
}

/** This thread's id in the operating system where /proc says it (Linux), else nothing. */
function osThreadId(): { osThreadId?: number } {
  try {
    const tid = Number(/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
    return Number.isInteger(tid) ? { osThreadId: tid } : {};
  } catch {
    return {};
  }
}
