/**
 * Which hosts a package's remote stage may call. The URL is the package's, but a package is
 * data dropped into a folder: left unchecked it could make the runtime POST its records to
 * any address (cloud metadata services, internal admin APIs). The runtime's configuration
 * (REMOTE_ALLOWED_HOSTS, loopback by default) names the hosts; a package naming another is
 * refused at load, before any request is sent.
 */

/** The default: the model server beside the runtime. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** Why `url` may not be called, or undefined when its host is allowed (`*` allows any). */
export function hostRefusal(url: string, allowed: readonly string[]): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return `url is not a valid URL`;
  }
  if (allowed.some((a) => a === '*' || a.replace(/^\[|\]$/g, '').toLowerCase() === host)) return undefined;
  return `url's host "${host}" is not one the runtime allows (REMOTE_ALLOWED_HOSTS: ${allowed.join(', ') || 'none'})`;
}
