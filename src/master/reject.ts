import { REJECT_LINGER_MS } from '../shared/defaults.js';
import { socketFromHandle, type NativeHandle } from '../shared/node-internals/handles.js';

const RESPONSE =
  'HTTP/1.1 503 Service Unavailable\r\n' +
  'Retry-After: 1\r\n' +
  'Content-Type: text/plain\r\n' +
  'Content-Length: 20\r\n' +
  'Connection: close\r\n' +
  '\r\n' +
  'Server is too busy.\n';

/**
 * Answers a connection that cannot be served (the queue is full, or it waited
 * past `queueTimeout`): 503 with Retry-After, then a lingering close. Closing
 * with unread request bytes in the kernel buffer would send a reset that can
 * destroy the 503 before the client reads it, so the master reads and drops
 * until the client closes or the linger time passes. The linger is one
 * deadline, not an idle timeout: a client that keeps sending (a large upload,
 * the rest of a body whose start the monitor read for a woken connection)
 * cannot hold the socket longer. A woken connection's `head` is not needed:
 * its request is what the 503 answers.
 */
export function rejectBusy(handle: NativeHandle): void {
  const socket = socketFromHandle(handle);
  const linger = setTimeout(() => socket.destroy(), REJECT_LINGER_MS).unref();
  socket.on('close', () => clearTimeout(linger));
  socket.on('error', () => socket.destroy());
  socket.on('data', () => {});
  // Once the client has closed its side and the 503 is flushed, the socket destroys itself (autoDestroy):
  // destroying at 'end' could drop a 503 still queued behind a full send buffer.
  socket.end(RESPONSE);
}
