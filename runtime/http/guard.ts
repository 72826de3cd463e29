/**
 * Who may talk to the runtime's HTTP server. Two checks run before any route:
 * - the Host header must name the server by an IP literal, `localhost`, or a name the
 *   operator allowed (HTTP_ALLOWED_HOSTS). A page on attacker.example that rebinds its
 *   DNS name to 127.0.0.1 still sends `Host: attacker.example`, so the browser's request is
 *   refused and the page cannot read /events, /status or /metrics; IP literals cannot be
 *   rebound, so they always pass.
 * - with HTTP_TOKEN set, `Authorization: Bearer <token>` (compared in constant time).
 * /healthz is exempt from both: orchestrators probe it by pod IP without credentials, and
 * it reveals nothing but "up".
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export interface HttpGuardOptions {
  /** Host names (no port) requests may use besides IP literals and `localhost`; `*` allows any. */
  readonly allowedHosts: readonly string[];
  /** Bearer token required on every path but the open ones; undefined: none. */
  readonly token: string | undefined;
}

/** Paths answered without the Host and token checks. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz']);

export type Refusal = { readonly status: 401 | 403; readonly error: string } | undefined;

/** Why a request may not be answered, or undefined when it may. */
export function refuseRequest(req: IncomingMessage, path: string, options: HttpGuardOptions): Refusal {
  if (OPEN_PATHS.has(path)) return undefined;
  if (!hostAllowed(req.headers.host, options.allowedHosts)) {
    return { status: 403, error: 'Host header not allowed (set HTTP_ALLOWED_HOSTS to serve this name)' };
  }
  if (options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
    return { status: 401, error: 'missing or wrong bearer token' };
  }
  return undefined;
}

export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined) return false;
  const name = hostName(header).toLowerCase();
  if (name === 'localhost' || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return true;
  return allowed.some((a) => a === '*' || a.toLowerCase() === name);
}

/** The name part of a Host header: `[::1]:8080` → `[::1]`, `example.com:80` → `example.com`. */
function hostName(header: string): string {
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
