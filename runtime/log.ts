import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; lifecycle at info, never a line per message at info. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'mlstream' } });
}
