import http from 'node:http';
import net from 'node:net';

/**
 * Lets an unmodified script that calls `server.listen(port)` serve the
 * cluster's connections, as under `node:cluster`: the first http.Server to
 * listen is handed to `claim` instead of binding. Any other listen (a second
 * server, a raw net server) binds for real. What it relies on: `http.Server`
 * inherits `listen` from `net.Server.prototype` (no own override), and the
 * callback, if any, is the last argument. Returns the undo (for tests).
 */
export function interceptListen(claim: (server: http.Server, callback: (() => void) | undefined) => boolean): () => void {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function interceptedListen(this: net.Server, ...args: unknown[]) {
    const callback = args.findLast((a) => typeof a === 'function') as (() => void) | undefined;
    if (this instanceof http.Server && claim(this, callback)) return this;
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;
  return () => {
    net.Server.prototype.listen = listen;
  };
}
