/**
 * The smallest HTTP/1.1 response reader the think-time client needs: the
 * status, whether the server will close the connection, and where the body
 * ends. Bodies are framed by Content-Length, or run until the server closes
 * (a response without a length, as Node's 408 and 400 with
 * `Connection: close`). Chunked bodies are refused: the bench's app always sends a
 * length, and rocket-cluster's own 503 does too, so a chunked answer means
 * something unexpected answered and should count as an error.
 */

/** What one complete response says. */
export interface ParsedResponse {
  readonly status: number;
  /** The server will close the connection after it (`Connection: close`, or HTTP/1.0 without keep-alive). */
  readonly close: boolean;
}

/** A response the reader cannot frame: the connection is unusable. */
export class ResponseParseError extends Error {}

const CRLFCRLF = Buffer.from('\r\n\r\n');
// A response head longer than this is garbage, not a slow server.
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Incremental: feed it every chunk a socket reads, in order; it calls
 * `onResponse` once per complete response (several per chunk if pipelined).
 * One instance per connection; after a ResponseParseError it is unusable.
 */
export class ResponseReader {
  /** Bytes of a head not yet complete (a head split across reads); empty most of the time. */
  #head: Buffer = Buffer.alloc(0);
  /** Body bytes still to skip; -1 while reading a head. */
  #bodyLeft = -1;
  /** The response being read has no length: it ends when the connection does. */
  #untilClose: ParsedResponse | null = null;
  #current: ParsedResponse | null = null;

  /** A response has started (some of its head or body has arrived) and not finished. */
  get midResponse(): boolean {
    return this.#head.length > 0 || this.#bodyLeft >= 0 || this.#untilClose !== null;
  }

  push(chunk: Buffer, onResponse: (r: ParsedResponse) => void): void {
    let buf = this.#head.length > 0 ? Buffer.concat([this.#head, chunk]) : chunk;
    this.#head = Buffer.alloc(0);
    while (buf.length > 0) {
      if (this.#untilClose !== null) return; // everything up to the close is body
      if (this.#bodyLeft >= 0) {
        const n = Math.min(this.#bodyLeft, buf.length);
        this.#bodyLeft -= n;
        buf = buf.subarray(n);
        if (this.#bodyLeft > 0) return;
        this.#bodyLeft = -1;
        onResponse(this.#current!);
        this.#current = null;
        continue;
      }
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) throw new ResponseParseError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
        this.#head = Buffer.from(buf); // a copy: the socket's buffer may be reused
        return;
      }
      const head = parseHead(buf.toString('latin1', 0, end));
      buf = buf.subarray(end + CRLFCRLF.length);
      const response: ParsedResponse = { status: head.status, close: head.close };
      if (head.status < 200) continue; // interim (100 Continue): the real response follows
      if (head.length === 'until-close') {
        this.#untilClose = response;
      } else if (head.length === 'none' || head.length === 0) {
        onResponse(response);
      } else {
        this.#current = response;
        this.#bodyLeft = head.length;
      }
    }
  }

  /**
   * The server closed the connection: a response whose body runs until the
   * close is complete now (returned); any other unfinished one is not (null).
   */
  end(): ParsedResponse | null {
    const r = this.#untilClose;
    this.#untilClose = null;
    return r;
  }
}

interface Head {
  readonly status: number;
  readonly close: boolean;
  /** Body bytes, no body at all, or a body until the server closes. */
  readonly length: number | 'none' | 'until-close';
}

/** Status line and the three headers that frame a response; `text` excludes the blank line. */
export function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!m) throw new ResponseParseError(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const http10 = m[1] === '0';
  const status = Number(m[2]);
  let contentLength: number | null = null;
  let connection = '';
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ResponseParseError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) throw new ResponseParseError(`bad Content-Length: ${JSON.stringify(value)}`);
      contentLength = Number(value);
    } else if (name === 'connection') {
      connection = value.toLowerCase();
    } else if (name === 'transfer-encoding') {
      chunked = true;
    }
  }
  if (chunked) throw new ResponseParseError('Transfer-Encoding bodies are not supported (the bench app always sends Content-Length)');
  const tokens = connection.split(',').map((t) => t.trim());
  // 1xx, 204 and 304 never have a body, whatever the headers say; any other
  // response without a length runs until the server closes (RFC 9112 §6.3).
  const bodiless = status < 200 || status === 204 || status === 304;
  const length = bodiless ? 'none' : (contentLength ?? 'until-close');
  const close = length === 'until-close' || tokens.includes('close') || (http10 && !tokens.includes('keep-alive'));
  return { status, close, length };
}
