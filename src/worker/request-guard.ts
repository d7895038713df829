import type http from 'node:http';
import type { ChildLog } from '../shared/child-log.js';

export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => unknown;

/**
 * A handler that throws (or whose promise rejects) must not take the worker
 * down: the request gets a 500 if nothing was sent yet, otherwise its
 * connection is closed, and every other connection carries on.
 */
export function failRequest(log: ChildLog, req: http.IncomingMessage, res: http.ServerResponse, error: unknown): void {
  log.error({ err: error, method: req.method, url: req.url }, 'request handler failed');
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 22 });
  res.end('Internal Server Error\n');
}

export function guardListener(log: ChildLog, listener: RequestListener): RequestListener {
  return (req, res) => {
    try {
      const result = listener(req, res);
      if (result instanceof Promise) result.catch((error: unknown) => failRequest(log, req, res, error));
    } catch (error) {
      failRequest(log, req, res, error);
    }
  };
}

/**
 * The same guard for a server the app built itself: its 'request' listeners
 * run inside `emit`, so that is where a synchronous throw can be caught.
 */
export function guardServerEmit(log: ChildLog, server: Pick<http.Server, 'emit'>): void {
  const emit = server.emit;
  // No rest parameters and no bound function on this per-request path: that pattern cost the request gate a
  // quarter of keep-alive throughput (request-gate.ts).
  /* eslint-disable prefer-rest-params */
  server.emit = function guardedEmit(this: http.Server, event: string | symbol, req?: unknown, res?: unknown): boolean {
    if (event !== 'request') return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
    try {
      return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
    } catch (error) {
      failRequest(log, req as http.IncomingMessage, res as http.ServerResponse, error);
      return true;
    }
  } as typeof server.emit;
  /* eslint-enable prefer-rest-params */
}
