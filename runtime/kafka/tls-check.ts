import net from 'node:net';
import tls from 'node:tls';
import type { Config } from '../config.js';

/**
 * Node's codes for a TLS handshake that failed on a certificate: ours or the broker's did not
 * verify, was expired, named another host, or the broker asked for one we did not send. These
 * are settings to fix, not a moment to wait out.
 */
const CERTIFICATE_FAILURE = /CERT|SIGNATURE|ISSUER|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

/**
 * One TLS handshake with the first bootstrap broker that answers, as kafkajs would open it,
 * before kafkajs connects: kafkajs retries a handshake refused for a certificate like any
 * connection error (8 times with backoff, about a minute) before the runtime may stop. A
 * certificate failure rejects here at once with Node's reason; anything else (a broker not up
 * yet, a timeout) resolves and is left to the client's own retries.
 */
export async function checkTlsHandshake(brokers: readonly string[], ssl: Config['ssl'], timeoutMs = 5000): Promise<void> {
  if (!ssl) return;
  const options = ssl === true ? {} : ssl;
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':');
    const host = broker.slice(0, at);
    const port = Number(broker.slice(at + 1));
    const outcome = await new Promise<'ok' | 'unreachable' | Error>((resolve) => {
      const socket = tls.connect({ ...options, host, port, ...(net.isIP(host) ? {} : { servername: host }) }, () => {
        socket.end();
        resolve('ok');
      });
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        resolve('unreachable');
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        socket.destroy();
        resolve(CERTIFICATE_FAILURE.test(String(e.code)) ? new Error(`TLS handshake with ${broker} failed: ${e.message} (${e.code})`) : 'unreachable');
      });
    });
    if (outcome instanceof Error) throw outcome;
    if (outcome === 'ok') return;
  }
}
