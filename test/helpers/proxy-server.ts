import net, { type AddressInfo } from 'node:net';

/** Bytes of Kafka protocol a proxied session carried each way, so far. */
export interface Carried {
  fromClient: number;
  toClient: number;
}

/** A running proxy: its port, its sessions, the connections it refused (with why). */
export interface RunningProxy<S extends Carried> {
  readonly port: number;
  readonly sessions: readonly S[];
  readonly refused: readonly string[];
  close(): Promise<void>;
}

/** The socket bookkeeping the tests' protocol proxies share: every socket is tracked and destroyed on close. */
export interface ProxyServer {
  /** Tracks a socket (an error destroys it) until it closes. */
  track<S extends net.Socket>(s: S): S;
  /** A connection to the upstream broker, tied to `client`: either closing closes the other. */
  connectUpstream(client: net.Socket): net.Socket;
  listen(): Promise<number>;
  close(): Promise<void>;
}

export function proxyServer(upstream: { host: string; port: number }, onConnection: (raw: net.Socket) => void): ProxyServer {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(onConnection);
  const track = <S extends net.Socket>(s: S): S => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    return s;
  };
  return {
    track,
    connectUpstream(client) {
      const broker = track(net.connect(upstream.port, upstream.host));
      client.once('close', () => broker.destroy());
      broker.once('close', () => client.destroy());
      return broker;
    },
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
