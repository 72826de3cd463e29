import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route } from './server.js';

const assetsDir = join(dirname(fileURLToPath(import.meta.url)), 'dashboard');

/** The page loads nothing from anywhere but this server. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const ASSETS: ReadonlyArray<readonly [path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/dashboard/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/dashboard/charts.js', 'charts.js', 'text/javascript; charset=utf-8'],
  ['/dashboard/style.css', 'style.css', 'text/css; charset=utf-8'],
];

/** The live dashboard's static files, read once at start (no build step, no CDN). */
export function dashboardRoutes(): Record<string, Route> {
  const routes: Record<string, Route> = {};
  for (const [path, file, type] of ASSETS) {
    const body = readFileSync(join(assetsDir, file));
    routes[path] = (_req, res) => {
      res
        .writeHead(200, {
          'content-type': type,
          'content-length': body.length,
          'cache-control': 'no-cache',
          'content-security-policy': CONTENT_SECURITY_POLICY,
          'x-content-type-options': 'nosniff',
        })
        .end(body);
    };
  }
  return routes;
}
