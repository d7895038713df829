import http from 'node:http';

export interface LoadCounts {
  ok: number;
  /** Every failed request: a socket error or a non-200 status. */
  readonly errors: string[];
  /** Client sockets used: with keep-alive, about one per connection. */
  readonly sockets: Set<unknown>;
}

/**
 * `connections` keep-alive clients, each sending GET `path` back to back until
 * `stop()`, which waits for the requests in flight to end. Nothing is retried:
 * every failure is counted.
 */
export function keepAliveLoad(port: number, connections: number, path = '/'): { counts: LoadCounts; stop(): Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const counts: LoadCounts = { ok: 0, errors: [], sockets: new Set() };
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      http
        .get({ port, host: '127.0.0.1', path, agent }, (res) => {
          counts.sockets.add(res.socket);
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) counts.ok++;
            else counts.errors.push(`status ${res.statusCode}`);
            resolve();
          });
        })
        .on('error', (e) => {
          counts.errors.push(e.message);
          resolve();
        });
    });
  const loops = Array.from({ length: connections }, async () => {
    while (running) await one();
  });
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}
