import type net from 'node:net';
import { takeHandle, type NativeHandle } from './handles.js';

/**
 * The master's accept path. A listening `net.Server` keeps its native listen
 * handle in `server._handle`, and Node's C++ calls `_handle.onconnection(err,
 * clientHandle)` for each accepted connection. Internals used: those two, and
 * the client wrap's `setNoDelay()`.
 */

type ClientHandle = NativeHandle & { setNoDelay?(on: boolean): number };

interface ListenHandle {
  onconnection?: (error: number, client: ClientHandle | undefined) => void;
}

/**
 * Takes accepted connections as raw handles, as node:cluster's round-robin
 * primary does: Node would otherwise build a net.Socket for each one, only for
 * the master to take its handle away again (about 14 µs per connection here).
 * An accept error (EMFILE: out of file descriptors) leaves the listener up;
 * the kernel keeps the connection in the backlog until a descriptor is free.
 * TCP_NODELAY is set on each (a socket option: it stays set on the fd in every
 * process).
 *
 * Call right after 'listening', on a server created with `pauseOnConnect:
 * true`. Returns 'raw', or 'sockets' if this Node's listen handle has no
 * `onconnection` to replace: then each connection comes as a `net.Socket`,
 * paused so that it reads no byte, whose handle is taken at once: slower, but
 * nothing is lost.
 */
export function acceptRawHandles(server: net.Server, onConnection: (handle: NativeHandle) => void): 'raw' | 'sockets' {
  const listenHandle = (server as unknown as { _handle?: ListenHandle | null })._handle;
  if (listenHandle && typeof listenHandle.onconnection === 'function') {
    listenHandle.onconnection = (error, client) => {
      if (error || !client) return;
      client.setNoDelay?.(true);
      onConnection(client);
    };
    return 'raw';
  }
  server.on('connection', (socket: net.Socket) => {
    socket.setNoDelay(true);
    const handle = takeHandle(socket);
    if (handle) onConnection(handle);
  });
  return 'sockets';
}
