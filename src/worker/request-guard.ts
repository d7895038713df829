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
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function guardedEmit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') return emit(event, ...args);
    try {
      return emit(event, ...args);
    } catch (error) {
      failRequest(log, args[0] as http.IncomingMessage, args[1] as http.ServerResponse, error);
      return true;
    }
  } as typeof server.emit;
}
