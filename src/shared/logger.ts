import pino, { type Logger } from 'pino';
import { BufferedStdout } from './buffered-stdout.js';

export type Role = 'master' | 'worker' | 'monitor' | 'cli';
export type { Logger };

/**
 * One logger per process, JSON lines with role and pid bound. Children write
 * to fd 1, which the master reads and merges (src/logs/sink.ts); the master
 * gives its sink as `to`. Workers write access lines at request rate, so their
 * output is buffered and flushed at least once a second and on exit; the other
 * roles write at once.
 */
const destinations: BufferedStdout[] = [];

/** Writes out buffered log lines now (before a process may be killed). */
export function flushLogs(): void {
  for (const d of destinations) d.flushSync();
}

/** `to`: where the lines go instead of fd 1 (the master's log sink). */
export function createLogger(role: Role, level = 'info', extra: Record<string, unknown> = {}, to?: pino.DestinationStream): Logger {
  const options = { level, base: { role, pid: process.pid, ...extra }, timestamp: pino.stdTimeFunctions.isoTime };
  if (to) return pino(options, to);
  const buffered = role === 'worker';
  // 16 KB: each write wakes the master to read it, so a quarter as many
  // wakeups (and writes here) as 4 KB; a quiet worker still flushes each second.
  const destination = new BufferedStdout(buffered ? 16 * 1024 : 0);
  destinations.push(destination);
  if (buffered) {
    setInterval(() => destination.flushSync(), 1000).unref();
    process.once('exit', flushLogs);
  }
  return pino(options, destination);
}
