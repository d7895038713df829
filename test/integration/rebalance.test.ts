import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';

interface Served {
  readonly sent: string;
  readonly url: string;
  readonly pid: number;
  readonly localPort: number;
}

/**
 * One keep-alive client: requests one after another on one connection (an
 * agent with one socket), each with its own sequence number, until stopped.
 * Records what each response echoed, which worker served it and from which
 * local port (a new port would mean the server closed the connection).
 */
class BusyClient {
  readonly served: Served[] = [];
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #stopped = false;
  readonly done: Promise<void>;

  constructor(port: number, name: string, path: (n: number) => string) {
    this.done = this.#loop(port, name, path);
  }

  async #loop(port: number, name: string, path: (n: number) => string): Promise<void> {
    for (let n = 0; !this.#stopped; n++) this.served.push(await this.get(port, `${path(n)}&client=${name}&n=${n}`));
  }

  get(port: number, url: string): Promise<Served> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: url, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { url: string; pid: number };
          resolve({ sent: url, url: body.url, pid: body.pid, localPort: req.socket?.localPort ?? -1 });
        });
      });
      req.on('error', reject);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.done;
  }

  close(): void {
    this.#agent.destroy();
  }
}

const readyWorkers = async (cluster: Cluster) => (await cluster.status()).workers.filter((w) => w.state === 'ready');

describe('rebalancing keep-alive connections', () => {
  it('saturation grows the pool with an empty queue; connections move to the new worker in order, and come back when it shrinks', async () => {
    const cluster = await startCluster(fixture('echo.mjs'), [
      '--min-workers', '1',
      '--max-workers', '2',
      '--scale-down-after', '1000',
      '--no-access-log',
    ]);
    const clients = Array.from({ length: 8 }, (_, i) => new BusyClient(cluster.port, `c${i}`, () => '/burn?ms=3'));
    try {
      // Grows on saturation alone: the queue never holds anything.
      await expect.poll(async () => (await readyWorkers(cluster)).length, { timeout: 20_000 }).toBe(2);
      const grown = (await cluster.status()).pool.events.find((e) => e.kind === 'grow');
      expect(grown?.reason).toMatch(/event loop at least 90% busy/);
      // Connections move: the new worker serves requests on connections the first one accepted.
      await expect
        .poll(async () => (await readyWorkers(cluster)).map((w) => w.served > 0 && w.connections > 0), { timeout: 20_000 })
        .toEqual([true, true]);
      const status = await cluster.status();
      expect(status.queue.rejected).toBe(0);
      expect(status.connections.moved).toBeGreaterThan(0);
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
    }
    const pidsPerClient = clients.map((c) => new Set(c.served.map((s) => s.pid)));
    expect(pidsPerClient.some((pids) => pids.size === 2)).toBe(true); // a connection served by both workers
    for (const c of clients) {
      // Every response answers its own request, in order, on the one connection the client opened.
      expect(c.served.map((s) => s.url)).toEqual(c.served.map((s) => s.sent));
      expect(new Set(c.served.map((s) => s.localPort)).size).toBe(1);
    }

    // Load stops: the pool shrinks back to one worker, and every connection is still usable.
    await expect.poll(async () => (await cluster.status()).workers.length, { timeout: 20_000 }).toBe(1);
    const [survivor] = await readyWorkers(cluster);
    for (const [i, c] of clients.entries()) {
      const again = await c.get(cluster.port, `/after-shrink?client=c${i}`);
      expect(again).toMatchObject({ url: `/after-shrink?client=c${i}`, pid: survivor!.pid!, localPort: c.served[0]!.localPort });
      c.close();
    }
    expect((await cluster.status()).restarts).toBe(0);
  });
});
