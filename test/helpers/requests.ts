/**
 * Raw HTTP/1.1 requests as a client writes them on the wire, for tests that
 * speak HTTP by hand (RawClient, net sockets). Every request carries
 * `Host: t`; header lines are given as `Name: value`.
 */

/** A request head: request line, `Host: t`, the given header lines, and the blank line that ends it. */
export function head(method: string, path: string, headers: readonly string[] = []): string {
  return `${method} ${path} HTTP/1.1\r\nHost: t\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
}

/** A GET (keep-alive unless a header says `Connection: close`). */
export function get(path: string, ...headers: string[]): string {
  return head('GET', path, headers);
}

/** A POST with a Content-Length body. */
export function post(path: string, body: Uint8Array, ...headers: string[]): Buffer {
  return Buffer.concat([Buffer.from(head('POST', path, [`Content-Length: ${body.length}`, ...headers]), 'latin1'), body]);
}
