import type net from 'node:net';

/**
 * Makes a pipe or terminal stream blocking at the libuv level. Internal used:
 * the stream's `_handle.setBlocking()` (libuv `uv_stream_set_blocking`).
 * False if there is no such handle (a file has none, and blocks anyway) or no
 * such method: then the stream stays non-blocking, slower but correct.
 */
export function makeBlocking(stream: net.Socket | NodeJS.WriteStream): boolean {
  const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle;
  if (typeof handle?.setBlocking !== 'function') return false;
  return handle.setBlocking(true) === 0;
}

/**
 * Node makes a pipe or terminal on fd 1 non-blocking once anything touches
 * `process.stdout` (the CLI does), and sonic-boom answers EAGAIN by waiting
 * 100 ms: a busy cluster's stdout would be capped near 640 KB/s and drop
 * lines (seen at 30k requests/s into a pipe). Blocking, an asynchronous write
 * waits in a libuv threadpool thread for the reader, never in the event loop.
 */
export function makeStdoutBlocking(): boolean {
  return makeBlocking(process.stdout);
}
