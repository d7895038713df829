import pino, { type Logger } from 'pino';

export type Role = 'master' | 'worker' | 'monitor' | 'cli';
export type { Logger };

/**
 * One logger per process, JSON lines on stdout with role and pid bound.
 * Workers write access lines at request rate, so their output is buffered and
 * flushed at least once a second and on exit; the other roles write at once.
 */
const destinations: { flushSync(): void }[] = [];

/** Writes out buffered log lines now (before a process may be killed). */
export function flushLogs(): void {
  for (const d of destinations) {
    try {
      d.flushSync();
    } catch {
      // stdout already closed: nothing left to save the lines to
    }
  }
}

export function createLogger(role: Role, level = 'info', extra: Record<string, unknown> = {}): Logger {
  const buffered = role === 'worker';
  const destination = pino.destination({ dest: 1, sync: !buffered, minLength: buffered ? 4096 : 0 });
  if (buffered) {
    destinations.push(destination);
    setInterval(() => destination.flush(), 1000).unref();
    process.once('exit', flushLogs);
  }
  return pino({ level, base: { role, pid: process.pid, ...extra }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
