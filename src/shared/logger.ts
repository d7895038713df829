import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The master's logger: pino JSON lines with role, pid and `extra` bound,
 * written into the master's log sink (`to`, src/logs/sink.ts), which merges
 * them with every child's. Children log with child-log.ts.
 */
export function createLogger(role: 'master', level: string, extra: Record<string, string | number>, to: pino.DestinationStream): Logger {
  return pino({ level, base: { role, pid: process.pid, ...extra }, timestamp: pino.stdTimeFunctions.isoTime }, to);
}
