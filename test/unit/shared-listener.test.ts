import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { NativeHandle } from '../../src/shared/node-internals/handles.js';
import { socketFromHandle } from '../../src/shared/node-internals/handles.js';
import { acceptOn, bindSocket, boundPort, canShareListeners, type ListenSocket } from '../../src/shared/node-internals/shared-listener.js';

// Contract tests of the internals --accept workers relies on, in one process on real loopback sockets.
const bind = (): ListenSocket => {
  const socket = bindSocket({ host: '127.0.0.1', port: 0 });
  if (typeof socket === 'number') throw new Error(`bind failed: ${socket}`);
  onTestFinished(() => socket.close());
  return socket;
};

describe('shared listening sockets (Node internals)', () => {
  it('net._createServerHandle exists', () => {
    expect(canShareListeners()).toBe(true);
  });

  it('binds port 0 without listening, tells the port, and accepts raw client handles once listening', async () => {
    const socket = bind();
    const port = boundPort(socket);
    expect(port).toBeGreaterThan(0);
    const accepted = new Promise<NativeHandle>((resolve) => expect(acceptOn(socket, resolve, () => {})).toBe(0));
    const client = net.connect(port!, '127.0.0.1');
    onTestFinished(() => void client.destroy());
    const handle = await accepted;
    // The raw handle is a usable connection: wrapped, it reads what the client wrote.
    const server = socketFromHandle(handle);
    onTestFinished(() => void server.destroy());
    client.write('ping');
    const [data] = (await once(server, 'data')) as [Buffer];
    expect(data.toString()).toBe('ping');
  });

  it('finds a port another socket listens on only when listening (bind alone succeeds under SO_REUSEADDR)', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    onTestFinished(() => void taken.close());
    await once(taken, 'listening');
    const socket = bindSocket({ host: '127.0.0.1', port: (taken.address() as net.AddressInfo).port });
    expect(typeof socket).toBe('object');
    const listenError = acceptOn(socket as ListenSocket, () => {}, () => {});
    (socket as ListenSocket).close();
    expect(listenError).toBeLessThan(0); // EADDRINUSE
  });

  it('binds a unix socket path, and binding a live one fails', () => {
    const path = `/tmp/rc-shared-${process.pid}-${Date.now()}.sock`;
    const first = bindSocket({ path });
    expect(typeof first).toBe('object');
    onTestFinished(() => (first as ListenSocket).close());
    expect(acceptOn(first as ListenSocket, () => {}, () => {})).toBe(0);
    expect(bindSocket({ path })).toBeLessThan(0); // EADDRINUSE
  });
});
