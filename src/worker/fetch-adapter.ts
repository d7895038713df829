import type http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** An app in the web-standard shape (Hono and similar): `fetch(request) -> Response`. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/**
 * Serves a fetch-shaped app on node:http: builds a `Request` from the incoming
 * message (the body streams, it is not buffered) and writes the `Response` back,
 * streaming its body. A client that goes away aborts the request's signal.
 */
export function fetchListener(app: FetchApp): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  return async (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Bad Request\n');
      return;
    }
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
    const aborter = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers, signal: aborter.signal };
    if (hasBody) {
      init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    const response = await app.fetch(new Request(url, init));
    const outHeaders: Record<string, string | string[]> = {};
    response.headers.forEach((value, key) => {
      if (key !== 'set-cookie') outHeaders[key] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) outHeaders['set-cookie'] = cookies;
    // An empty statusText (the usual case) means Node's standard reason phrase.
    if (response.statusText) res.statusMessage = response.statusText;
    res.writeHead(response.status, outHeaders);
    if (response.body === null || req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), res);
  };
}
