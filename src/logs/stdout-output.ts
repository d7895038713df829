import { createRequire } from 'node:module';
import { makeStdoutBlocking } from '../shared/node-internals/stdout.js';
import { DESTINATION_OPTIONS, LogOutput, type Destination } from './output.js';

/**
 * The sonic-boom class pino writes with, loaded from pino's own location, as
 * pino-roll's is. Not pino.destination(): that one registers an exit hook that
 * calls `flushSync()`, which in sonic-boom 4 retries ENOSPC or EPIPE forever,
 * and on EPIPE it silently turns `write` into a no-op (no drop counted).
 */
const SonicBoom = createRequire(createRequire(import.meta.url).resolve('pino'))('sonic-boom') as new (
  options: typeof DESTINATION_OPTIONS & { fd: number },
) => Destination;

/**
 * The master's stdout as a log output. Writes are asynchronous (libuv
 * threadpool): a terminal or pipe that does not read never blocks the event
 * loop; past the backlog, lines are dropped and counted. Made blocking first,
 * so that sonic-boom never meets EAGAIN (see makeStdoutBlocking).
 */
export function openStdout(): LogOutput {
  makeStdoutBlocking();
  return new LogOutput(new SonicBoom({ ...DESTINATION_OPTIONS, fd: 1 }), 'stdout');
}
