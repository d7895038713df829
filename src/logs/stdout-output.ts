import { createRequire } from 'node:module';
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
 * loop; past the backlog, lines are dropped and counted.
 */
export function openStdout(): LogOutput {
  makeStdoutBlocking();
  return new LogOutput(new SonicBoom({ ...DESTINATION_OPTIONS, fd: 1 }), 'stdout');
}

/**
 * Node makes a pipe or terminal on fd 1 non-blocking once anything touches
 * `process.stdout` (the CLI does), and sonic-boom answers EAGAIN by waiting
 * 100 ms: a busy cluster's stdout would be capped near 640 KB/s and drop
 * lines (seen at 30k requests/s into a pipe). Blocking, the
 * asynchronous write waits in a libuv threadpool thread for the reader, never
 * in the event loop. `_handle.setBlocking` is Node's own (libuv
 * uv_stream_set_blocking); a file on fd 1 has no handle and blocks anyway.
 */
function makeStdoutBlocking(): void {
  const handle = (process.stdout as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle;
  handle?.setBlocking?.(true);
}
