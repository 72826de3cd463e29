import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A GET route: the path is matched exactly. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** The runtime's HTTP server: /healthz, /status and whatever else main wires in. */
export async function startHttp(port: number, routes: Readonly<Record<string, Route>>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    // A key ending in `/*` serves every path below it (e.g. /v2/models/<name>/ready).
    const route = routes[path] ?? Object.entries(routes).find(([key]) => key.endsWith('/*') && path.startsWith(key.slice(0, -1)))?.[1];
    if (req.method !== 'GET' || !route) {
      sendJson(res, req.method !== 'GET' ? 405 : 404, { error: req.method !== 'GET' ? 'method not allowed' : 'not found' });
      return;
    }
    Promise.resolve(route(req, res)).catch((e: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: e.message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return server;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
