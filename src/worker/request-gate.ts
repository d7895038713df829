import type http from 'node:http';
import type net from 'node:net';

/**
 * RFC 9112 rules that Node's parser (llhttp) lets through, checked before a
 * request reaches the app. Each is a way for two hops to frame or route one
 * request differently, the ground of request smuggling; docs/RELIABILITY.md
 * has the corpus that found them. A request that breaks one is answered 400
 * (505 for a version other than HTTP/1.x) with `Connection: close`, the app
 * never sees it, and neither does anything pipelined behind it on the same
 * connection.
 */

/** A Host value: an IP literal in brackets, or reg-name/IPv4 characters, and an optional port; empty is allowed (RFC 9112 §3.2). */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+;=%-]*)(?::\d*)?$/;

export interface GateRefusal {
  readonly status: 400 | 505;
  readonly why: string;
}

/** Why `req` must not reach the app, or null when it may. */
export function refusal(req: http.IncomingMessage): GateRefusal | null {
  const major = req.httpVersionMajor;
  const minor = req.httpVersionMinor;
  if (major !== 1) return major === 0 ? { status: 400, why: 'no HTTP version (HTTP/0.9)' } : { status: 505, why: `HTTP/${req.httpVersion} in an HTTP/1 request line` };
  const raw = req.rawHeaders;
  let hosts = 0;
  let host = '';
  let te: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // Lengths first: most headers are neither, and a length test costs nothing.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = raw[i + 1] as string;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      te = te === undefined ? (raw[i + 1] as string) : `${te},${raw[i + 1] as string}`;
    }
  }
  if (hosts === 0 && minor === 1) return { status: 400, why: 'no Host header' };
  if (hosts > 1) return { status: 400, why: 'more than one Host header' };
  if (hosts === 1 && !HOST.test(host)) return { status: 400, why: 'a Host header that is not a host and port' };
  if (te !== undefined) {
    // The last coding must be chunked, or the body's end is unknown; an empty value is no coding at all.
    const last = te.slice(te.lastIndexOf(',') + 1).trim().toLowerCase();
    if (last !== 'chunked') return { status: 400, why: 'a Transfer-Encoding that does not end in chunked' };
    // An HTTP/1.0 hop ignores Transfer-Encoding and would read the chunks as the next request (RFC 9112 §6.1).
    if (minor === 0) return { status: 400, why: 'Transfer-Encoding in an HTTP/1.0 request' };
  }
  return null;
}

/** Connections that had a request refused: whatever follows on them never reaches the app. */
const refusedOn = new WeakSet<net.Socket>();

/**
 * Wraps `server.emit` so that every 'request' passes the gate before any
 * listener (the worker's hook, the app) runs. Node's own answer to a missing
 * Host is turned off: it answers 400 but still parses, and emits, a request
 * pipelined behind; the gate answers instead and drops what follows.
 * HTTP/2 requests (an http2 secure server) are not HTTP/1 framing and pass.
 */
export function gateRequests(server: http.Server): void {
  (server as http.Server & { requireHostHeader?: boolean }).requireHostHeader = false;
  const emit = server.emit;
  // No rest parameters and no bound function: this runs for every request, and every allocation here shows.
  /* eslint-disable prefer-rest-params */
  server.emit = function gatedEmit(this: http.Server, event: string | symbol, req?: unknown, res?: unknown): boolean {
    if (event !== 'request') return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
    const request = req as http.IncomingMessage;
    if ((request as { stream?: unknown }).stream !== undefined) return emit.apply(this, arguments as unknown as Parameters<typeof emit>); // HTTP/2 compat request
    if (refusedOn.has(request.socket)) return true; // behind a refused request: the connection closes after its 400
    const no = refusal(request);
    if (no === null) return emit.apply(this, arguments as unknown as Parameters<typeof emit>);
    refuse(request, res as http.ServerResponse, no);
    return true;
  } as typeof server.emit;
  /* eslint-enable prefer-rest-params */
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, no: GateRefusal): void {
  refusedOn.add(req.socket);
  req.resume();
  const body = `${no.why}\n`;
  res.shouldKeepAlive = false;
  res.writeHead(no.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}
