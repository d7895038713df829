import type http from 'node:http';
import type { ChildLog } from '../shared/child-log.js';
import { failRequest, type RequestListener } from './request-guard.js';
import type { StaticFiles, StaticMiss } from './static-files.js';

/**
 * Puts `--static` in front of the app on `server`, whatever the app's shape:
 * a GET or HEAD under a mount goes to the worker's request hook (tracking,
 * metrics, access log: `hook`, which must already be a 'request' listener)
 * and then to the files; whatever names no file goes on to the app's
 * listeners, as emit would have run them. Every other request pays one
 * method test and one prefix test (StaticFiles.mountFor), no allocation.
 */
export function serveStaticFirst(server: http.Server, hook: RequestListener, files: StaticFiles, log: ChildLog, staticOnly: boolean): void {
  const emit = server.emit;
  const toApp: StaticMiss = staticOnly ? staticOnlyMiss : (req, res) => {
    // The app's listeners, less the hook, which ran when the request came in. A throw is caught as guardServerEmit does.
    try {
      for (const listener of server.listeners('request')) if (listener !== hook) (listener as RequestListener).call(server, req, res);
    } catch (error) {
      failRequest(log, req, res, error);
    }
  };
  // No rest parameters and no bound function: this runs for every request (see request-gate.ts).
  /* eslint-disable prefer-rest-params */
  server.emit = function staticFirstEmit(this: http.Server, event: string | symbol, req?: unknown, res?: unknown): boolean {
    if (event === 'request' && (req as { stream?: unknown }).stream === undefined) {
      const request = req as http.IncomingMessage;
      const root = files.mountFor(request);
      if (root !== null) {
        const response = res as http.ServerResponse;
        hook(request, response);
        files.serve(request, response, root, toApp);
        return true;
      }
    }
    return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
  } as typeof server.emit;
  /* eslint-enable prefer-rest-params */
}

/**
 * The app of a static file server (`--static` and no app): what names no
 * file. 405 for another method under a mount, the refusal's status for a
 * path refused, else 404.
 */
export function staticOnlyApp(files: StaticFiles): RequestListener {
  return (req, res) => answer(res, req.method !== 'GET' && req.method !== 'HEAD' && files.covers(req.url as string) ? 405 : 404);
}

/** The miss of a static file server: the status the files gave. */
export const staticOnlyMiss: StaticMiss = (_req, res, status) => answer(res, status);

const TEXT: Record<number, string> = { 403: 'Forbidden\n', 404: 'Not Found\n', 405: 'Method Not Allowed\n' };

function answer(res: http.ServerResponse, status: 403 | 404 | 405): void {
  const body = TEXT[status] as string;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
    ...(status === 405 ? { allow: 'GET, HEAD' } : {}),
  });
  res.end(body);
}
