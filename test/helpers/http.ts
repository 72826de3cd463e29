/** GETs a JSON document from a runtime's HTTP server, with its status code. */
export async function getJson<T = Record<string, unknown>>(port: unknown, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${String(port)}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `check` until it returns a value (not undefined) or the timeout passes. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
