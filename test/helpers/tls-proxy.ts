import type net from 'node:net';
import tls from 'node:tls';
import { proxyServer, type Carried, type RunningProxy } from './proxy-server.js';

export interface TlsSession extends Carried {
  /** The client's certificate verified against the proxy's CA (mutual TLS). */
  readonly authorized: boolean;
  readonly clientCn: string | undefined;
}

/** `sessions`: TLS sessions that completed their handshake; `refused`: handshakes that failed (a client that could not verify the proxy's certificate gives up). */
export type TlsProxy = RunningProxy<TlsSession>;

/**
 * A TLS front for the local broker's plaintext listener, as a TLS listener of a real broker
 * would be (the broker's `advertise` command makes Metadata name it). Each connection's first
 * byte says what it speaks: 0x16 opens a TLS handshake (a Kafka request starts with its length,
 * whose first byte is 0 for any request the tests send), which the proxy terminates, asking for
 * a client certificate and recording whether it verified; anything else is passed through as it is, so the tests'
 * own plaintext clients keep working through the same advertised address.
 */
export async function startTlsProxy(upstream: { host: string; port: number }, pki: { key: string; cert: string; ca: string }): Promise<TlsProxy> {
  const sessions: TlsSession[] = [];
  const refused: string[] = [];
  const pipeUp = (client: net.Socket, session?: TlsSession): void => {
    const broker = proxy.connectUpstream(client);
    if (session) {
      client.on('data', (d: Buffer) => (session.fromClient += d.length));
      broker.on('data', (d: Buffer) => (session.toClient += d.length));
    }
    client.pipe(broker).pipe(client);
  };
  // The TLS side: a tls.Server that is handed the connections opening with a handshake. It asks
  // for a client certificate and records whether it verified, without refusing one that did not.
  const tlsServer = tls.createServer({ key: pki.key, cert: pki.cert, ca: [pki.ca], requestCert: true, rejectUnauthorized: false }, (secure) => {
    proxy.track(secure);
    const cn = secure.getPeerCertificate().subject?.CN;
    const session: TlsSession = { authorized: secure.authorized, clientCn: Array.isArray(cn) ? cn[0] : cn, fromClient: 0, toClient: 0 };
    sessions.push(session);
    pipeUp(secure, session);
  });
  tlsServer.on('tlsClientError', (e: Error) => refused.push(e.message));
  const proxy = proxyServer(upstream, (raw) => {
    proxy.track(raw);
    raw.once('readable', () => {
      const first = raw.read(1) as Buffer | null;
      if (!first) return;
      raw.unshift(first);
      if (first[0] === 0x16) tlsServer.emit('connection', raw);
      else pipeUp(raw);
    });
  });
  return { port: await proxy.listen(), sessions, refused, close: () => proxy.close() };
}
