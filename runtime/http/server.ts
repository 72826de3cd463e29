import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelStore } from '../packages/store.js';

/** /healthz and /status on HTTP_PORT. */
export async function startHttp(port: number, store: ModelStore, isHealthy: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz') {
      const ok = isHealthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
      return;
    }
    if (path === '/status') {
      const m = store.current();
      const body = {
        models: m ? [{ name: m.name, version: m.version, loadedAt: m.loadedAt, stages: m.pipeline.active.map((s) => s.className) }] : [],
        lastRefusal: store.refusal() ?? null,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  return server;
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
