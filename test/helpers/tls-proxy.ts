import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

export interface TlsSession {
  /** The client's certificate verified against the proxy's CA (mutual TLS). */
  readonly authorized: boolean;
  readonly clientCn: string | undefined;
  /** Bytes of Kafka protocol carried inside the session, each way, so far. */
  fromClient: number;
  toClient: number;
}

export interface TlsProxy {
  readonly port: number;
  /** TLS sessions that completed their handshake. */
  readonly sessions: readonly TlsSession[];
  /** Handshakes that failed (a client that could not verify the proxy's certificate gives up). */
  readonly refused: readonly string[];
  close(): Promise<void>;
}

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
  const sockets = new Set<net.Socket>();
  const track = <S extends net.Socket>(s: S): S => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  };
  const pipeUp = (client: net.Socket, session?: TlsSession): void => {
    const broker = track(net.connect(upstream.port, upstream.host));
    if (session) {
      client.on('data', (d: Buffer) => (session.fromClient += d.length));
      broker.on('data', (d: Buffer) => (session.toClient += d.length));
    }
    client.pipe(broker).pipe(client);
    client.once('close', () => broker.destroy());
    broker.once('close', () => client.destroy());
  };
  // The TLS side: a tls.Server that is handed the connections opening with a handshake. It asks
  // for a client certificate and records whether it verified, without refusing one that did not.
  const tlsServer = tls.createServer({ key: pki.key, cert: pki.cert, ca: [pki.ca], requestCert: true, rejectUnauthorized: false }, (secure) => {
    track(secure);
    const cn = secure.getPeerCertificate().subject?.CN;
    const session: TlsSession = { authorized: secure.authorized, clientCn: Array.isArray(cn) ? cn[0] : cn, fromClient: 0, toClient: 0 };
    sessions.push(session);
    pipeUp(secure, session);
  });
  tlsServer.on('tlsClientError', (e: Error) => refused.push(e.message));
  const server = net.createServer((raw) => {
    track(raw);
    raw.once('readable', () => {
      const first = raw.read(1) as Buffer | null;
      if (!first) return;
      raw.unshift(first);
      if (first[0] === 0x16) tlsServer.emit('connection', raw);
      else pipeUp(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
