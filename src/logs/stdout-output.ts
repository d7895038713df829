import { makeStdoutBlocking } from '../shared/node-internals/stdout.js';
import { LogOutput, openDestination } from './output.js';

/**
 * The master's stdout as a log output. Writes are asynchronous (libuv
 * threadpool): a terminal or pipe that does not read never blocks the event
 * loop; past the backlog, lines are dropped and counted. Made blocking first,
 * so that sonic-boom never meets EAGAIN (see makeStdoutBlocking).
 */
export function openStdout(): LogOutput {
  makeStdoutBlocking();
  return new LogOutput(openDestination({ fd: 1 }), 'stdout');
}
