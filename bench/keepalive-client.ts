import http from 'node:http';

/**
 * One HTTP/1.1 keep-alive connection to a server: an Agent limited to one
 * socket that never times it out, so every request reuses the same TCP
 * connection for as long as the server keeps it open.
 */
export class KeepAliveClient {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  /** Sends one GET and resolves, once the body is fully read, with its timing. */
  async get(timeoutMs = 10_000): Promise<{ ms: number; status: number; reused: boolean; body: string }> {
    return new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = http.get(this.#url, { agent: this.#agent, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, status: res.statusCode ?? 0, reused: req.reusedSocket, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
      req.on('error', reject);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
