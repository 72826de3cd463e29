import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { proxyServer, type Carried, type RunningProxy } from './proxy-server.js';

/*
 * A SASL front for the local broker, which has no SASL of its own (librdkafka's mock cluster):
 * it authenticates each connection the way a Kafka broker's SASL listener does, then carries
 * its bytes to the broker untouched. What it speaks, from the Kafka protocol's definitions:
 *
 *  - ApiVersions is forwarded, and the broker's answer gains SaslHandshake (key 17, version 1
 *    only, so the token exchange is framed as SaslAuthenticate requests) and SaslAuthenticate
 *    (key 36, versions 0–1, the non-flexible ones);
 *  - SaslHandshake picks the mechanism (error 33, UNSUPPORTED_SASL_MECHANISM, otherwise);
 *  - SaslAuthenticate carries PLAIN (RFC 4616) or SCRAM-SHA-256/512 (RFC 5802, RFC 7677) as a
 *    server: the salted password is derived here from the user table, the client's proof is
 *    checked, and the server's signature is sent back for the client to check. A wrong password
 *    gets error 58 (SASL_AUTHENTICATION_FAILED) and the connection is closed, as Kafka does;
 *  - any other request before authentication closes the connection (Kafka refuses it too).
 *
 * The tests' own clients (client id `passClientId`) are passed through without SASL so they
 * can produce and read through the same advertised address.
 */

export type Mechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface SaslSession extends Carried {
  readonly clientId: string;
  mechanism?: Mechanism;
  user?: string;
  /** Set once the exchange ends: whether the client proved it knows the password. */
  authenticated?: boolean;
}

/** `refused`: connections closed for a request sent before authenticating; `fromClient`/`toClient` count after authentication. */
export type SaslProxy = RunningProxy<SaslSession>;

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const UNSUPPORTED_SASL_MECHANISM = 33;
const SASL_AUTHENTICATION_FAILED = 58;
const SCRAM_ITERATIONS = 4096; // Kafka's minimum, and kafkajs's

export async function startSaslProxy(
  upstream: { host: string; port: number },
  opts: { users: Record<string, string>; mechanisms?: Mechanism[]; passClientId?: string },
): Promise<SaslProxy> {
  const mechanisms = opts.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
  const sessions: SaslSession[] = [];
  const refused: string[] = [];
  const proxy = proxyServer(upstream, (raw) => {
    const client = proxy.track(raw);
    const broker = proxy.connectUpstream(client);
    let session: SaslSession | undefined;
    let open = false;
    let exchange: ((token: Buffer) => Step) | undefined;
    let fromClient = Buffer.alloc(0);
    let fromBroker = Buffer.alloc(0);
    const pendingVersions: number[] = []; // ApiVersions request versions whose answers are on their way

    const openUp = (rest: Buffer): void => {
      open = true;
      if (rest.length > 0) broker.write(rest);
    };
    const refuse = (why: string): void => {
      refused.push(why);
      client.destroy();
    };

    client.on('data', (d: Buffer) => {
      if (open) {
        if (session) session.fromClient += d.length;
        broker.write(d);
        return;
      }
      fromClient = Buffer.concat([fromClient, d]);
      while (!open && fromClient.length >= 4 && fromClient.length >= 4 + fromClient.readInt32BE(0)) {
        const size = 4 + fromClient.readInt32BE(0);
        const frame = fromClient.subarray(0, size);
        fromClient = fromClient.subarray(size);
        const req = requestHeader(frame);
        if (!session) {
          if (req.clientId === opts.passClientId) {
            openUp(Buffer.concat([frame, fromClient]));
            return;
          }
          session = { clientId: req.clientId, fromClient: 0, toClient: 0 };
          sessions.push(session);
        }
        if (req.apiKey === API_VERSIONS) {
          pendingVersions.push(req.apiVersion);
          broker.write(frame);
        } else if (req.apiKey === SASL_HANDSHAKE && !exchange) {
          const mechanism = readString(frame, req.bodyAt).value as Mechanism;
          const known = mechanisms.includes(mechanism);
          client.write(response(req.correlationId, handshakeBody(known ? 0 : UNSUPPORTED_SASL_MECHANISM, mechanisms)));
          if (!known) return refuse(`${req.clientId}: mechanism ${mechanism} is not enabled`);
          session.mechanism = mechanism;
          exchange = mechanism === 'PLAIN' ? plainServer(opts.users, session) : scramServer(mechanism, opts.users, session);
        } else if (req.apiKey === SASL_AUTHENTICATE && exchange) {
          const len = frame.readInt32BE(req.bodyAt);
          const step = exchange(frame.subarray(req.bodyAt + 4, req.bodyAt + 4 + len));
          client.write(response(req.correlationId, authenticateBody(req.apiVersion, step)));
          if (step.error) {
            session.authenticated = false;
            client.end();
            return;
          }
          if (step.done) {
            session.authenticated = true;
            openUp(fromClient);
            fromClient = Buffer.alloc(0);
          }
        } else {
          return refuse(`${req.clientId}: request ${req.apiKey} before authenticating`);
        }
      }
    });

    broker.on('data', (d: Buffer) => {
      if (pendingVersions.length === 0) {
        if (session) session.toClient += d.length;
        client.write(d);
        return;
      }
      fromBroker = Buffer.concat([fromBroker, d]);
      while (pendingVersions.length > 0 && fromBroker.length >= 4 && fromBroker.length >= 4 + fromBroker.readInt32BE(0)) {
        const size = 4 + fromBroker.readInt32BE(0);
        client.write(withSaslApis(fromBroker.subarray(0, size), pendingVersions.shift()!));
        fromBroker = fromBroker.subarray(size);
      }
      if (pendingVersions.length === 0 && fromBroker.length > 0) {
        client.write(fromBroker);
        fromBroker = Buffer.alloc(0);
      }
    });
  });
  return { port: await proxy.listen(), sessions, refused, close: () => proxy.close() };
}

interface Step {
  readonly reply: Buffer;
  readonly done?: boolean;
  readonly error?: string;
}

function plainServer(users: Record<string, string>, session: SaslSession): (token: Buffer) => Step {
  return (token) => {
    const [, user = '', password] = token.toString('utf8').split('\0');
    session.user = user;
    return users[user] !== undefined && users[user] === password ? { reply: Buffer.alloc(0), done: true } : { reply: Buffer.alloc(0), error: 'Authentication failed: Invalid username or password' };
  };
}

/** SCRAM's server side over two client messages (client-first, client-final). */
function scramServer(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', users: Record<string, string>, session: SaslSession): (token: Buffer) => Step {
  const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
  const H = (b: Buffer): Buffer => createHash(hash).update(b).digest();
  const hmac = (key: Buffer, text: string): Buffer => createHmac(hash, key).update(text).digest();
  const failed = { reply: Buffer.alloc(0), error: `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}` };
  let first: { gs2: string; bare: string; serverFirst: string; nonce: string; salt: Buffer } | undefined;
  return (token) => {
    const text = token.toString('utf8');
    if (!first) {
      // gs2-header ("n,," : no channel binding, no authzid), then client-first-bare "n=user,r=nonce"
      const gs2End = text.indexOf(',', text.indexOf(',') + 1) + 1;
      const bare = text.slice(gs2End);
      const attrs = scramAttributes(bare);
      session.user = (attrs.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
      const nonce = `${attrs.r ?? ''}${randomBytes(18).toString('base64')}`;
      const salt = randomBytes(16);
      const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${SCRAM_ITERATIONS}`;
      first = { gs2: text.slice(0, gs2End), bare, serverFirst, nonce, salt };
      return { reply: Buffer.from(serverFirst) };
    }
    const proofAt = text.lastIndexOf(',p=');
    const withoutProof = text.slice(0, proofAt);
    const attrs = scramAttributes(withoutProof);
    const password = users[session.user ?? ''];
    if (proofAt < 0 || attrs.r !== first.nonce || attrs.c !== Buffer.from(first.gs2).toString('base64') || password === undefined) return failed;
    const salted = pbkdf2Sync(password, first.salt, SCRAM_ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
    const storedKey = H(hmac(salted, 'Client Key'));
    const authMessage = `${first.bare},${first.serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    if (proof.length !== signature.length) return failed;
    const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    if (!timingSafeEqual(H(clientKey), storedKey)) return failed;
    const serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return { reply: Buffer.from(`v=${serverSignature.toString('base64')}`), done: true };
  };
}

function scramAttributes(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split(',')) if (part.length > 1 && part[1] === '=') out[part[0]!] = part.slice(2);
  return out;
}

/** Request header v1 or v2 (the latter adds tagged fields, which only flexible requests, here ApiVersions v3+, carry). */
function requestHeader(frame: Buffer): { apiKey: number; apiVersion: number; correlationId: number; clientId: string; bodyAt: number } {
  const apiKey = frame.readInt16BE(4);
  const apiVersion = frame.readInt16BE(6);
  const correlationId = frame.readInt32BE(8);
  const id = readString(frame, 12);
  return { apiKey, apiVersion, correlationId, clientId: id.value, bodyAt: id.next };
}

function readString(buf: Buffer, at: number): { value: string; next: number } {
  const len = buf.readInt16BE(at);
  if (len < 0) return { value: '', next: at + 2 };
  return { value: buf.toString('utf8', at + 2, at + 2 + len), next: at + 2 + len };
}

function response(correlationId: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + body.length, 0);
  head.writeInt32BE(correlationId, 4);
  return Buffer.concat([head, body]);
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function str(s: string): Buffer {
  return Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
}

function handshakeBody(error: number, mechanisms: readonly string[]): Buffer {
  return Buffer.concat([int16(error), int32(mechanisms.length), ...mechanisms.map(str)]);
}

function authenticateBody(version: number, step: Step): Buffer {
  const parts = [int16(step.error ? SASL_AUTHENTICATION_FAILED : 0), step.error ? str(step.error) : int16(-1), int32(step.reply.length), step.reply];
  if (version >= 1) parts.push(Buffer.alloc(8)); // session_lifetime_ms 0: no re-authentication
  return Buffer.concat(parts);
}

/**
 * The broker's ApiVersions answer with SaslHandshake and SaslAuthenticate added. Versions 0–2 list
 * the keys as an int32-counted array; version 3 (flexible) as a compact array (unsigned varint
 * count + 1) whose entries end in tagged fields. The response header is version 0 either way.
 */
function withSaslApis(frame: Buffer, version: number): Buffer {
  const errorAt = 8;
  const added: Array<[number, number, number]> = [
    [SASL_HANDSHAKE, 1, 1],
    [SASL_AUTHENTICATE, 0, 1],
  ];
  if (frame.readInt16BE(errorAt) !== 0) return frame; // e.g. an unsupported version: the client retries lower
  const flexible = version >= 3;
  let at = errorAt + 2;
  let count: number;
  if (flexible) {
    const v = readUVarint(frame, at);
    count = v.value - 1;
    at = v.next;
  } else {
    count = frame.readInt32BE(at);
    at += 4;
  }
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = 6 + (flexible ? 1 : 0); // the mock writes no tagged fields in an entry
    if (flexible && frame[at + 6] !== 0) throw new Error('sasl-proxy: ApiVersions entry with tagged fields');
    const key = frame.readInt16BE(at);
    if (key !== SASL_HANDSHAKE && key !== SASL_AUTHENTICATE) entries.push(frame.subarray(at, at + size));
    at += size;
  }
  for (const [key, min, max] of added) entries.push(Buffer.concat([int16(key), int16(min), int16(max), flexible ? Buffer.from([0]) : Buffer.alloc(0)]));
  const countField = flexible ? uvarint(entries.length + 1) : int32(entries.length);
  const body = Buffer.concat([frame.subarray(errorAt, errorAt + 2), countField, ...entries, frame.subarray(at)]);
  return response(frame.readInt32BE(4), body);
}

function readUVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value, next: at };
    shift += 7;
  }
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
