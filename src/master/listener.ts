import fs from 'node:fs';
import net from 'node:net';
import { formatListenAddress, type ListenAddress } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { NativeHandle } from '../shared/node-internals/handles.js';
import { acceptRawHandles } from '../shared/node-internals/listen-handle.js';

export interface BoundListener {
  readonly server: net.Server;
  /** The real address, with the port the kernel chose for port 0. */
  readonly address: string;
}

/**
 * Binds every address or none: if one fails, those already bound are closed and
 * the error names the address. Accepted connections arrive as raw handles that
 * are not reading, so the master never reads a client byte.
 */
export async function bindAll(addresses: readonly ListenAddress[], onConnection: (handle: NativeHandle) => void): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const address of addresses) bound.push(await bindOne(address, onConnection));
  } catch (error) {
    await closeAll(bound);
    throw error;
  }
  return bound;
}

export async function closeAll(listeners: readonly BoundListener[]): Promise<void> {
  await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))));
}

async function bindOne(address: ListenAddress, onConnection: (handle: NativeHandle) => void): Promise<BoundListener> {
  if (address.kind === 'unix') await removeStaleUnixSocket(address.path);
  // Paused: should this Node not let us take accepted handles raw, its sockets read no byte either.
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new RocketError('RC_ERR_LISTEN_BIND', `cannot listen on ${formatListenAddress(address)}: ${error.code ?? error.message}`, { cause: error })),
    );
    if (address.kind === 'unix') server.listen({ path: address.path, backlog: 511 }, resolve);
    else server.listen({ host: address.host, port: address.port, backlog: 511 }, resolve);
  });
  acceptRawHandles(server, onConnection);
  const real = server.address();
  const shown = typeof real === 'string' || real === null ? address : { kind: 'tcp' as const, host: real.address, port: real.port };
  return { server, address: formatListenAddress(shown) };
}

/** A socket file left by a dead process refuses connections; one in use accepts them. */
async function removeStaleUnixSocket(path: string): Promise<void> {
  if (!fs.existsSync(path)) return;
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (!inUse && fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
}
