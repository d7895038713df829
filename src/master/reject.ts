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
 * Answers a connection the queue has no room for: 503 with Retry-After, then a
 * lingering close. Closing with unread request bytes in the kernel buffer would
 * send a reset that can destroy the 503 before the client reads it, so the
 * master reads and drops until the client closes or the linger time passes.
 */
export function rejectBusy(handle: NativeHandle): void {
  const socket = socketFromHandle(handle);
  socket.on('error', () => socket.destroy());
  socket.on('data', () => {});
  socket.setTimeout(REJECT_LINGER_MS, () => socket.destroy());
  socket.on('end', () => socket.destroy());
  socket.end(RESPONSE);
}
