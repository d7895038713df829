import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

/** A server a script may start that the worker can serve: node:http's, or one that terminates TLS (https, tls, http2 secure). */
export type ClaimableServer = http.Server | tls.Server;

/**
 * Lets an unmodified script that calls `server.listen(port)` serve the
 * cluster's connections, as under `node:cluster`: the first http.Server (or
 * https, tls or http2 secure server: those terminate TLS themselves, with the
 * script's own certificates) to listen is handed to `claim` instead of
 * binding. Any other listen (a second server, a raw net server) binds for
 * real. What it relies on: these servers inherit `listen` from
 * `net.Server.prototype` (no own override), and the callback, if any, is the
 * last argument. Returns the undo (for tests).
 */
export function interceptListen(claim: (server: ClaimableServer, callback: (() => void) | undefined) => boolean): () => void {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function interceptedListen(this: net.Server, ...args: unknown[]) {
    const callback = args.findLast((a) => typeof a === 'function') as (() => void) | undefined;
    if ((this instanceof http.Server || this instanceof tls.Server) && claim(this, callback)) return this;
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
  return () => {
    net.Server.prototype.listen = listen;
  };
}
