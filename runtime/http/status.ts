import type { ModelStore } from '../packages/store.js';
import { relativeRefusal } from './relative-paths.js';
import { sendJson, type Route } from './server.js';

export function healthRoute(isHealthy: () => boolean): Route {
  return (_req, res) => {
    const ok = isHealthy();
    sendJson(res, ok ? 200 : 503, { ok });
  };
}

/** Loaded packages with their versions, and the last refusal with its reason. */
export function statusRoute(store: ModelStore): Route {
  return (_req, res) => {
    const serving = store.current();
    sendJson(res, 200, {
      serving: serving ? { name: serving.name, version: serving.version } : null,
      models: store.loaded().map((m) => ({
        name: m.name,
        version: m.version,
        loadedAt: m.loadedAt,
        stages: m.pipeline.active.map((s) => s.className),
      })),
      refusals: store.allRefusals().map(relativeRefusal),
      lastRefusal: store.refusal() ? relativeRefusal(store.refusal()!) : null,
      counts: store.counts,
    });
  };
}
