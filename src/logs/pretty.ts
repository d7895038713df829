import { prettyFactory } from 'pino-pretty';

/**
 * The one human format of a log line (a foreground cluster on a terminal,
 * `rocket-cluster logs` on a terminal): time, level, `[role] msg`, then the
 * other fields, on one line. A line that is not JSON comes back as it is.
 */
export function prettyLogLine(): (line: string) => string {
  return prettyFactory({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', messageFormat: '[{role}] {msg}', ignore: 'hostname,role' });
}
