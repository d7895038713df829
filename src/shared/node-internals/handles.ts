import net from 'node:net';

/**
 * The native stream handle under a `net.Socket` (Node's `TCP` or `Pipe` wrap).
 * Handles, not sockets, are what cross IPC here: Node sends one as type
 * `net.Native`, and the receiver gets it back raw, not reading. That is how the
 * master relays a socket without ever reading it, and why the sender can keep
 * its copy until the receiver acknowledges.
 *
 * Internals used (docs/ARCHITECTURE.md, "Node internals"): `socket._handle`,
 * the wrap's `readStop()`, `close()`, `writeQueueSize`, the JS-side `reading`
 * and `onread` fields, `new net.Socket({ handle })`, and a TCP wrap's
 * `getpeername()`.
 */
export interface NativeHandle {
  readStart(): number;
  readStop(): number;
  close(callback?: () => void): void;
  reading?: boolean;
  onread?: unknown;
  readonly bytesRead?: number;
  readonly writeQueueSize?: number;
  /** TCP wraps only: fills `out` with the peer's address; 0 or a negative errno. */
  getpeername?(out: { address?: string }): number;
}

interface SocketInternals {
  _handle: NativeHandle | null;
}

function noop(): void {}

/** The socket's native handle; null once it is closed or taken. */
export function handleOf(socket: net.Socket): NativeHandle | null {
  return (socket as unknown as SocketInternals)._handle ?? null;
}

/**
 * The listening handle of a `net.Server` (`_handle`, as for a socket), to lend
 * to another process: a master upgrade passes it to the new master, whose
 * `listen({ fd })` takes over the same listening socket. Null once closed.
 */
export function listeningHandleOf(server: net.Server): NativeHandle | null {
  return (server as unknown as SocketInternals)._handle ?? null;
}

/**
 * Takes the handle away from a socket without closing it: reading stops at the
 * C++ level (so no byte is read into a process that will not own the socket),
 * then the JS socket is destroyed with no handle left to close, which runs every
 * `close` listener (Node's http bookkeeping among them) and leaves the fd open.
 * Caller owns the returned handle and must close it or pass it on.
 */
export function takeHandle(socket: net.Socket): NativeHandle | null {
  const internals = socket as unknown as SocketInternals;
  const handle = internals._handle;
  if (!handle) return null;
  handle.readStop();
  handle.reading = false;
  handle.onread = noop;
  internals._handle = null;
  socket.destroy();
  return handle;
}

/**
 * Wraps a received handle in a socket that behaves like one a listening
 * `http.Server` would get (half-open allowed, so http decides when to end).
 * Node starts reading at once; bytes arrive no earlier than the next poll phase,
 * so the caller can `unshift` bytes read elsewhere in the same tick.
 */
export function socketFromHandle(handle: NativeHandle): net.Socket {
  return new net.Socket({ handle, readable: true, writable: true, allowHalfOpen: true } as net.SocketConstructorOpts);
}

/** Closes a handle we own; closing an already closed one is harmless. */
export function closeHandle(handle: NativeHandle): void {
  try {
    handle.close();
  } catch {
    // already closed
  }
}

/** Bytes waiting to be written, in JS and in libuv. */
export function pendingWrite(socket: net.Socket): number {
  return socket.writableLength + (handleOf(socket)?.writeQueueSize ?? 0);
}

/**
 * The client's IP address of a raw TCP handle (`TCP.getpeername`, the call
 * behind `socket.remoteAddress`), read without wrapping the handle in a socket
 * (which would start reading it); undefined for a unix socket, or one the
 * client has already reset (ENOTCONN). `--sticky ip` routes by it.
 */
export function peerAddress(handle: NativeHandle): string | undefined {
  if (typeof handle.getpeername !== 'function') return undefined;
  const out: { address?: string } = {};
  return handle.getpeername(out) === 0 && typeof out.address === 'string' ? out.address : undefined;
}
