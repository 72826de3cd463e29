import { pino, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { lazyRequire } from './lazy.js';

const pretty = lazyRequire<typeof PinoPretty>('pino-pretty');

export type { Logger };

/**
 * The runtime's logger; lifecycle at info, never a line per message at info. On a terminal
 * the lines are formatted for a person (pino-pretty, written synchronously in this thread so
 * the last line before an exit is not lost); anywhere else they stay JSON lines for machines.
 */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  const options = { level, base: { service: 'mlstream' } };
  const isTerminal = (fd === 1 ? process.stdout : process.stderr).isTTY;
  if (!isTerminal) return pino(options, pino.destination(fd));
  return pino(options, pretty()({ colorize: true, sync: true, destination: fd, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }));
}
