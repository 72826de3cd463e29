import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A value made on its first use and kept: start-up does not pay for what a run may never need. */
export function lazy<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/**
 * A CommonJS dependency loaded on its first use instead of at start-up. For modules only
 * some packages or settings need (protobufjs for tf.train.Example and ONNX ZipMaps,
 * pino-pretty on a terminal): importing them eagerly cost every `mlstream serve` tens of
 * milliseconds before its first prediction.
 */
export function lazyRequire<T>(id: string): () => T {
  return lazy(() => require(id) as T);
}
