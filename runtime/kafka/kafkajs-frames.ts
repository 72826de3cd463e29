import { createRequire } from 'node:module';
import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { kafkajsInternals } from './kafkajs-internals.js';
import { responseBuffer } from './fetch-memory.js';

/**
 * Reads each Kafka response off the socket straight into one buffer of its size, for kafkajs.
 *
 * kafkajs gets a socket's data in chunks of up to 64 KiB and joins a response's chunks with
 * `Buffer.concat` once all of them are in. For a fetch response (megabytes when a partition is
 * behind) that copy goes into memory the process has not touched yet: on the bench's
 * spam-text row it was a tenth of the main thread's CPU (`Buffer.concat` from kafkajs's
 * `Connection.processData`: 1.4–2.3 ns per byte, against 0.04 for copying into memory in use;
 * docs/performance.md, Kafka clients).
 *
 * Here the socket reads through Node's `onread` into a buffer chosen per read: once a
 * response's 4-byte size is known, the rest of it is read directly into a buffer of exactly
 * that size, so nothing is joined. Each whole response reaches kafkajs as one 'data' chunk, and
 * `installFrameReader` lets kafkajs's connection hand such a chunk to its request queue
 * without copying it again; any other chunk (TLS sockets, which have no `onread`, or data this
 * reader could not frame) takes kafkajs's own path, byte for byte as before.
 */

/** Reads between responses go here (one response's start, or several small responses). */
const SCRATCH_BYTES = 64 * 1024;
/** A size beyond this is not taken as a response's: the rest of the connection's data goes to kafkajs as read. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;
/** As kafkajs's own socket factory. */
const KEEP_ALIVE_DELAY_MS = 60_000;
/** The kafkajs 2.2 modules this file builds on. */
const KAFKAJS_CONNECTION = 'kafkajs/src/network/connection.js';
const KAFKAJS_SOCKET_FACTORY = 'kafkajs/src/network/socketFactory.js';

/** Chunks that are exactly one response, size prefix included. */
const wholeFrames = new WeakSet<Buffer>();

/**
 * Splits a byte stream into Kafka responses (a 4-byte big-endian size, then that many bytes).
 * `target()` is where the next read goes; `read(n)` takes the `n` bytes just read there.
 */
export class FrameReader {
  /** The response being read into, and how much of it is in. */
  private frame: Buffer | undefined;
  private filled = 0;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** The first bytes (fewer than 4) of a size prefix the last read ended in. */
  private carry: Buffer | undefined;
  private framing = true;

  /** `whole`: the chunk is one response; otherwise it is data this reader could not frame, in order. */
  constructor(private readonly emit: (chunk: Buffer, whole: boolean) => void) {}

  target(): Buffer {
    return this.frame ? this.frame.subarray(this.filled) : this.scratch;
  }

  read(n: number): void {
    const frame = this.frame;
    if (frame) {
      this.filled += n;
      if (this.filled < frame.length) return;
      this.frame = undefined;
      this.filled = 0;
      this.emit(frame, true);
      return;
    }
    // The scratch buffer is read into again next time: whatever is emitted from it is copied.
    let data = this.scratch.subarray(0, n);
    if (!this.framing) return this.emit(Buffer.from(data), false);
    if (this.carry) {
      data = Buffer.concat([this.carry, data]);
      this.carry = undefined;
    }
    let at = 0;
    while (at < data.length) {
      const left = data.length - at;
      if (left < 4) {
        this.carry = Buffer.from(data.subarray(at));
        return;
      }
      const size = data.readInt32BE(at);
      if (size < 0 || size > MAX_FRAME_BYTES) {
        this.framing = false;
        this.emit(Buffer.from(data.subarray(at)), false);
        return;
      }
      const total = 4 + size;
      if (left >= total) {
        this.emit(Buffer.from(data.subarray(at, at + total)), true);
        at += total;
        continue;
      }
      // A large response (a fetch's records) goes into shared memory the runtime recycles once
      // every batch made from it is done (fetch-memory.ts), which the worker pool's threads read
      // values from without a copy (pool-protocol.ts, `pack`). Neither it nor a smaller buffer
      // is cleared: the reads that follow write every byte past `left` before it is emitted.
      const next = responseBuffer(total);
      data.copy(next, 0, at);
      this.frame = next;
      this.filled = left;
      return;
    }
  }
}

/**
 * kafkajs's socket factory with plain-text sockets read through a `FrameReader`; TLS sockets
 * come from kafkajs's own factory.
 */
export function framedSocketFactory(): ISocketFactory {
  const kafkajsSockets = (createRequire(import.meta.url)(KAFKAJS_SOCKET_FACTORY) as () => ISocketFactory)();
  return (args) => {
    if (args.ssl) return kafkajsSockets(args);
    const { host, port, onConnect } = args;
    // Made first: the socket asks for its first read's buffer while it is being made.
    let socket: net.Socket | undefined;
    const reader = new FrameReader((chunk, whole) => {
      if (whole) wholeFrames.add(chunk);
      socket!.emit('data', chunk);
    });
    socket = net.connect(
      {
        host,
        port,
        onread: {
          buffer: () => reader.target(),
          callback: (n: number) => {
            reader.read(n);
            return true;
          },
        },
      },
      onConnect,
    );
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    return socket;
  };
}

interface KafkajsConnection {
  bytesBuffered: number;
  authHandlers: unknown;
  requestQueue: { fulfillRequest(response: { size: number; correlationId: number; payload: Buffer }): void };
  processData(rawData: Buffer): void;
}

const FRAMES = Symbol.for('mlstream.kafkajs-frames');

let installed: boolean | undefined;
/** Responses kafkajs took whole from a FrameReader, for tests and the bench. */
export const framesTakenWhole = { count: 0 };

/**
 * Lets kafkajs's connections take a whole response from a `FrameReader` without joining or
 * copying it: the response goes to the request queue as kafkajs's own `processData` would
 * send it (its size, correlation id and the rest as the payload). Anything else — a chunk that
 * is not one whole response, bytes of an earlier response still buffered, SASL's exchange —
 * goes to kafkajs's `processData`. Once per process; false, leaving kafkajs as it is, when
 * kafkajs is not a 2.2 release laid out as expected.
 */
export function installFrameReader(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  const internals = kafkajsInternals((require) => require(KAFKAJS_CONNECTION) as { prototype: KafkajsConnection & { [FRAMES]?: true } });
  if (!internals) return false;
  const proto = internals.found.prototype;
  const original = proto.processData;
  if (typeof original !== 'function' || !String(original).includes('this.requestQueue.fulfillRequest')) return false;
  if (!proto[FRAMES]) {
    proto.processData = function processData(this: KafkajsConnection, rawData: Buffer): void {
      if (this.bytesBuffered === 0 && !this.authHandlers && rawData.length >= 8 && wholeFrames.has(rawData)) {
        framesTakenWhole.count++;
        this.requestQueue.fulfillRequest({ size: rawData.length - 4, correlationId: rawData.readInt32BE(4), payload: rawData.subarray(8) });
        return;
      }
      original.call(this, rawData);
    };
    proto[FRAMES] = true;
  }
  installed = true;
  return true;
}
