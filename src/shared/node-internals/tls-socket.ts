import type net from 'node:net';
import type tls from 'node:tls';

/**
 * The raw socket a server-side TLS socket was made over. Node's tls.Server
 * wraps the socket given to its 'connection' listener and emits only the TLS
 * socket ('secureConnection'); the one link back is `_parent`, set by
 * `TLSSocket` for a wrapped net.Socket since Node 0.x. Undefined if this Node
 * has none: the worker then keeps tracking the raw socket (its 'close' still
 * comes with the TLS socket's), without per-connection request counts.
 */
export function rawSocketOf(secured: tls.TLSSocket): net.Socket | undefined {
  const parent = (secured as tls.TLSSocket & { _parent?: unknown })._parent;
  return parent !== null && typeof parent === 'object' ? (parent as net.Socket) : undefined;
}
