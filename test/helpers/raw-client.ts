import net from 'node:net';

/**
 * A TCP client that speaks HTTP by hand, for the cases a real HTTP client will
 * not produce: requests split at any byte, pipelining, malformed heads.
 */
export class RawClient {
  readonly socket: net.Socket;
  #received = Buffer.alloc(0);
  #closed = false;
  #waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#received = Buffer.concat([this.#received, d]);
      this.#notify();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  get text(): string {
    return this.#received.toString('latin1');
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until `count` complete responses have arrived (or rejects on close/timeout). */
  async responses(count: number, timeoutMs = 10_000): Promise<ParsedResponse[]> {
    await this.until(() => parseResponses(this.#received).length >= count, timeoutMs, `${count} responses`);
    return parseResponses(this.#received);
  }

  /** Waits until the server closes the connection. */
  async closedByServer(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.#closed, timeoutMs, 'the server to close the connection', true);
  }

  until(test: () => boolean, timeoutMs: number, what: string, closeIsFine = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (test()) return done(null);
        if (this.#closed && !closeIsFine) return done(new Error(`connection closed while waiting for ${what}; got: ${JSON.stringify(this.text.slice(0, 500))}`));
      };
      const done = (e: Error | null) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; got: ${JSON.stringify(this.text.slice(0, 500))}`)), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }
}

export interface ParsedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Parses complete responses with Content-Length or chunked bodies from a byte stream. */
export function parseResponses(data: Buffer): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) return out;
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(lines[0]?.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let bodyStart = headEnd + 4;
    let body: string;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', bodyStart, 'latin1');
        if (lineEnd < 0) return out;
        const size = parseInt(data.subarray(bodyStart, lineEnd).toString('latin1'), 16);
        if (data.length < lineEnd + 2 + size + 2) return out;
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        bodyStart = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(parts).toString('utf8');
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < bodyStart + length) return out;
      body = data.subarray(bodyStart, bodyStart + length).toString('utf8');
      bodyStart += length;
    }
    out.push({ status, headers, body });
    at = bodyStart;
  }
}
