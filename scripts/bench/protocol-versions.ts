/**
 * Whether a Kafka client can talk to the bench's broker at all, decided before its row runs:
 * the broker's advertised protocol versions (ApiVersions) against the versions the client
 * implements. A client and a broker that share no version of an API the pipe needs cannot
 * run the row, and the report says which APIs, instead of a crashed row.
 */
import { connect } from 'node:net';
import * as platformatic from '@platformatic/kafka';

export type VersionRange = readonly [min: number, max: number];

/** The APIs a consume → produce → commit pipe with a consumer group uses, by Kafka API key. */
export const PIPE_APIS: ReadonlyMap<number, string> = new Map([
  [0, 'Produce'],
  [1, 'Fetch'],
  [2, 'ListOffsets'],
  [3, 'Metadata'],
  [8, 'OffsetCommit'],
  [9, 'OffsetFetch'],
  [10, 'FindCoordinator'],
  [11, 'JoinGroup'],
  [12, 'Heartbeat'],
  [13, 'LeaveGroup'],
  [14, 'SyncGroup'],
  [18, 'ApiVersions'],
]);

const API_VERSIONS_KEY = 18;

/**
 * The broker's supported version range per API key, from an ApiVersions v0 request (every
 * broker answers v0). Request: size, api_key, api_version, correlation_id, client_id;
 * response: size, correlation_id, error_code, then [api_key, min, max] as INT16s.
 */
export function brokerApiVersions(bootstrap: string, timeoutMs = 5000): Promise<Map<number, VersionRange>> {
  const colon = bootstrap.lastIndexOf(':');
  const host = bootstrap.slice(0, colon);
  const port = Number(bootstrap.slice(colon + 1));
  const clientId = Buffer.from('mlstream-bench');
  const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  request.writeInt32BE(request.length - 4, 0);
  request.writeInt16BE(API_VERSIONS_KEY, 4);
  request.writeInt16BE(0, 6);
  request.writeInt32BE(1, 8);
  request.writeInt16BE(clientId.length, 12);
  clientId.copy(request, 14);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => done(new Error(`no ApiVersions answer from ${bootstrap} within ${timeoutMs} ms`)), timeoutMs);
    const done = (error: Error | undefined, versions?: Map<number, VersionRange>): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(versions!);
    };
    socket.on('connect', () => socket.write(request));
    socket.on('error', (e) => done(e));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (all.length < 4 || all.length < 4 + all.readInt32BE(0)) return;
      const errorCode = all.readInt16BE(8);
      if (errorCode !== 0) return done(new Error(`ApiVersions v0 answered error code ${errorCode}`));
      const count = all.readInt32BE(10);
      const versions = new Map<number, VersionRange>();
      for (let i = 0, at = 14; i < count; i++, at += 6) versions.set(all.readInt16BE(at), [all.readInt16BE(at + 2), all.readInt16BE(at + 4)]);
      done(undefined, versions);
    });
  });
}

/**
 * The versions @platformatic/kafka implements per API key, read from the library itself: each
 * of its exported request functions carries its API key and version.
 */
export function platformaticVersions(): Map<number, VersionRange> {
  const ranges = new Map<number, VersionRange>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value === 'function') {
      const { key, version } = value as unknown as { key?: unknown; version?: unknown };
      if (typeof key === 'number' && typeof version === 'number') {
        const [min, max] = ranges.get(key) ?? [version, version];
        ranges.set(key, [Math.min(min, version), Math.max(max, version)]);
      }
    } else if (value && typeof value === 'object' && depth < 3) {
      for (const v of Object.values(value)) visit(v, depth + 1);
    }
  };
  visit(platformatic, 0);
  return ranges;
}

/** The pipe's APIs for which the broker and the client share no version, described; empty when they can talk. */
export function versionGaps(broker: ReadonlyMap<number, VersionRange>, client: ReadonlyMap<number, VersionRange>): string[] {
  const gaps: string[] = [];
  for (const [key, name] of PIPE_APIS) {
    const b = broker.get(key);
    const c = client.get(key);
    if (!c) gaps.push(`${name} (not implemented by the client)`);
    else if (!b) gaps.push(`${name} (not offered by the broker)`);
    else if (b[1] < c[0] || c[1] < b[0]) gaps.push(`${name} (broker v${b[0]}–${b[1]}, client v${c[0]}–${c[1]})`);
  }
  return gaps;
}
