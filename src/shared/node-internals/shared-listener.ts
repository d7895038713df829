import net from 'node:net';
import type { NativeHandle } from './handles.js';

/**
 * A listening socket shared by the master with its workers, as node:cluster's
 * SCHED_NONE shares one. Internals used: `net._createServerHandle` (what
 * node:cluster's primary calls: a TCP or Pipe wrap, bound, not listening), and
 * on a listen wrap `listen(backlog)`, `onconnection(err, client)` and
 * `getsockname(out)`; on a client wrap `setNoDelay()`.
 *
 * Why bound and not listening in the master: a process that calls `listen()`
 * on a wrap also polls it, and every process polling one socket competes for
 * each connection. The kernel's listen state belongs to the socket, not to a
 * descriptor, so the master keeps a descriptor (it owns the socket, and new
 * workers get theirs from it) while only workers poll.
 */
export interface ListenSocket extends NativeHandle {
  listen(backlog: number): number;
  onconnection: ((error: number, client: ClientSocket | undefined) => void) | null | undefined;
  getsockname?(out: { address?: string; port?: number }): number;
}

export type ClientSocket = NativeHandle & { setNoDelay?(on: boolean): number };

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ListenSocket | number;

/** Kernel backlog of connections not yet accepted; Node's own default. */
export const BACKLOG = 511;

/** Whether this Node has what sharing a listener needs (else the master accepts every connection). */
export function canShareListeners(): boolean {
  return typeof (net as unknown as { _createServerHandle?: unknown })._createServerHandle === 'function';
}

/**
 * Binds a TCP address (an IP, not a name) or a unix socket path without
 * listening. Returns the socket, or a negative errno (libuv's) if binding failed.
 */
export function bindSocket(target: { host: string; port: number } | { path: string }): ListenSocket | number {
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  if ('path' in target) return create(target.path, -1, -1);
  return create(target.host, target.port, net.isIPv6(target.host) ? 6 : 4);
}

/** The port the kernel gave a TCP socket bound to port 0; undefined for a unix socket. */
export function boundPort(socket: ListenSocket): number | undefined {
  const out: { port?: number } = {};
  return socket.getsockname?.(out) === 0 ? out.port : undefined;
}

/**
 * Starts accepting on `socket` in this process: each connection arrives as a
 * raw client handle, not reading, with TCP_NODELAY set. Returns 0 or a negative
 * errno. An accept error (EMFILE) is passed on; the listener stays up.
 */
export function acceptOn(socket: ListenSocket, onConnection: (client: ClientSocket) => void, onError: (errno: number) => void): number {
  socket.onconnection = (error, client) => {
    if (error || !client) {
      onError(error);
      return;
    }
    client.setNoDelay?.(true);
    onConnection(client);
  };
  return socket.listen(BACKLOG);
}

/**
 * Wraps a socket this process was handed already bound (systemd socket
 * activation passes descriptors 3 and up): `_createServerHandle` given a
 * descriptor opens it as a TCP or Pipe wrap, whichever it is, and binds
 * nothing. Accept on it with `acceptOn`, which listens again (a no-op for a
 * socket that already listens). Returns the socket, or a negative errno.
 */
export function openListenSocket(fd: number): ListenSocket | number {
  const create = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
  return create(null, 0, 0, fd);
}
