import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

const PARK_AFTER = 150;

interface Echo {
  pid: number;
  echo: string;
}

async function openSocket(cluster: Cluster): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${cluster.port}/chat`);
  onTestFinished(() => ws.terminate());
  await once(ws, 'open', { signal: AbortSignal.timeout(10_000) });
  return ws;
}

/** Sends one message and waits for its echo (rejects if the socket errors or closes first). */
async function roundTrip(ws: WebSocket, text: string): Promise<Echo> {
  const reply = new Promise<Echo>((resolve, reject) => {
    const signal = AbortSignal.timeout(10_000);
    const onClose = () => reject(new Error(`websocket closed while waiting for the echo of ${text}`));
    ws.once('close', onClose);
    once(ws, 'message', { signal }).then(
      ([data]) => {
        ws.off('close', onClose);
        resolve(JSON.parse(String(data)) as Echo);
      },
      (error: unknown) => {
        ws.off('close', onClose);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
  ws.send(text);
  return reply;
}

async function workerPids(cluster: Cluster): Promise<(number | null)[]> {
  return (await cluster.status()).workers.map((w) => w.pid);
}

describe('an upgraded (WebSocket) connection stays with its worker', () => {
  it('reaches the app\'s ws server through the cluster and exchanges messages in order', async () => {
    const cluster = await startCluster(fixture('ws-app.mjs'), ['--workers', '2']);
    const ws = await openSocket(cluster);
    const replies: Echo[] = [];
    for (const text of ['one', 'two', 'x'.repeat(70_000), 'h\u00e9llo \u{1f680}']) replies.push(await roundTrip(ws, text));
    expect(replies.map((r) => r.echo)).toEqual(['one', 'two', 'x'.repeat(70_000), 'h\u00e9llo \u{1f680}']);
    // Every message was answered by the same worker process, not by the master.
    const pid = replies[0]?.pid;
    expect(replies.every((r) => r.pid === pid)).toBe(true);
    expect(pid).not.toBe(cluster.pid);
    expect(await workerPids(cluster)).toContain(pid);
  });

  it('is never parked, however long it idles past park-after, while keep-alive HTTP on the same cluster parks and comes back', async () => {
    const cluster = await startCluster(fixture('ws-app.mjs'), ['--workers', '1', '--park-when', 'idle', '--park-after', String(PARK_AFTER)]);
    const ws = await openSocket(cluster);
    const before = await roundTrip(ws, 'before');
    expect(await workerPids(cluster)).toContain(before.pid);

    // The websocket is idle from here on. A keep-alive connection that goes idle
    // later: once it has been parked, the websocket has idled longer than park-after.
    const control = await RawClient.connect(cluster.port);
    onTestFinished(() => control.close());
    await control.write(get('/control'));
    const [first] = await control.responses(1);
    expect(first?.status).toBe(200);
    expect(JSON.parse(first?.body ?? '{}')).toEqual({ pid: before.pid, url: '/control' });
    await expect.poll(async () => (await cluster.status()).connections.parks, { timeout: 10_000, interval: 25 }).toBeGreaterThanOrEqual(1);

    const status = await cluster.status();
    expect(status.connections.parks).toBe(1); // the control connection, not the websocket
    // The websocket still counts toward its worker's load.
    await expect.poll(async () => (await cluster.status()).workers.map((w) => w.connections), { timeout: 10_000, interval: 25 }).toEqual([1]);
    const after = await roundTrip(ws, 'after');
    expect(after).toEqual({ pid: before.pid, echo: 'after' });

    // The parked keep-alive connection is served again when its client sends;
    // `Connection: close`, so that it cannot park a second time and every later park would be the websocket's.
    await control.write(get('/again', 'Connection: close'));
    const [, again] = await control.responses(2);
    expect(again?.status).toBe(200);
    expect(JSON.parse(again?.body ?? '{}')).toEqual({ pid: before.pid, url: '/again' });
    await control.closedByServer();
    // Exactly one wake: the control connection was in the monitor when it sent again (the websocket never was).
    expect((await cluster.status()).connections.wakes).toBe(1);

    // When the client closes the websocket, its worker lets go of it, without parking it on the way out.
    ws.close();
    await once(ws, 'close', { signal: AbortSignal.timeout(10_000) });
    await expect.poll(async () => (await cluster.status()).workers.map((w) => w.connections), { timeout: 10_000, interval: 25 }).toEqual([0]);
    const end = await cluster.status();
    expect(end.connections.parks).toBe(1); // still only the control connection's one park
    expect(end.connections.wakes).toBe(1);
  });
});
