import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import util from 'node:util';
import { formatListenAddress, type ListenAddress } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { NativeHandle } from '../shared/node-internals/handles.js';
import { acceptRawHandles } from '../shared/node-internals/listen-handle.js';
import { acceptOn, bindSocket, boundPort, type ListenSocket } from '../shared/node-internals/shared-listener.js';
import { lookupGroup } from './system-users.js';

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
/** A connection accepted on listen address `listener` (an index into --listen). */
export type OnConnection = (handle: NativeHandle, listener: number) => void;

export async function bindAll(addresses: readonly ListenAddress[], onConnection: OnConnection, inherited: readonly (NativeHandle | undefined)[] = []): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const [index, address] of addresses.entries()) bound.push(await bindOne(address, (handle) => onConnection(handle, index), inherited[index]));
  } catch (error) {
    await closeAll(bound);
    throw error;
  }
  return bound;
}

export async function closeAll(listeners: readonly BoundListener[]): Promise<void> {
  await Promise.all(listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))));
}

async function bindOne(address: ListenAddress, onConnection: (handle: NativeHandle) => void, inherited: NativeHandle | undefined): Promise<BoundListener> {
  if (address.kind === 'unix' && !inherited) await removeStaleUnixSocket(address);
  // Paused: should this Node not let us take accepted handles raw, its sockets read no byte either.
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new RocketError('RC_ERR_LISTEN_BIND', `cannot listen on ${formatListenAddress(address)}: ${error.code ?? error.message}`, { cause: error })),
    );
    // An inherited socket (a master upgrade) is listening already: this master takes over its descriptor.
    if (inherited) server.listen({ fd: (inherited as NativeHandle & { fd: number }).fd, backlog: 511 }, resolve);
    else if (address.kind === 'unix') server.listen({ path: address.path, backlog: 511 }, resolve);
    else server.listen({ host: address.host, port: address.port, backlog: 511 }, resolve);
  });
  if (address.kind === 'unix' && !inherited) {
    try {
      applySocketAccess(address);
    } catch (error) {
      server.close();
      throw error;
    }
  }
  acceptRawHandles(server, onConnection);
  const real = server.address();
  const shown = typeof real === 'string' || real === null ? address : { kind: 'tcp' as const, host: real.address, port: real.port };
  return { server, address: formatListenAddress(shown) };
}

/** A listening socket the master owns and lends to workers (`--accept workers`). */
export interface SharedListener {
  /** The master's own descriptor of the socket: polled here only while no worker accepts. */
  socket: ListenSocket;
  /**
   * False for a unix socket: closing the descriptor that bound it unlinks its
   * path, so the master never swaps or polls it; workers alone accept on it.
   */
  readonly pollable: boolean;
  /** The real address, with the port the kernel chose for port 0. */
  readonly address: string;
}

/**
 * Binds every address or none. A TCP address is also listened on, the master
 * accepting on it (`onConnection`) until a worker does: listening is what
 * finds a port in use (with SO_REUSEADDR, bind alone does not). A unix socket
 * starts listening with its first worker. Names resolve first, as
 * `net.Server.listen` would resolve them.
 */
export async function bindShared(addresses: readonly ListenAddress[], onConnection: OnConnection, inherited: readonly (NativeHandle | undefined)[] = []): Promise<SharedListener[]> {
  const bound: SharedListener[] = [];
  try {
    for (const [index, address] of addresses.entries()) {
      const kept = inherited[index] as ListenSocket | undefined;
      if (kept) {
        // A master upgrade: the old master's socket, listening all along; nothing is bound, no connection refused.
        const error = address.kind === 'unix' ? 0 : acceptOn(kept, (handle) => onConnection(handle, index), () => {});
        if (error !== 0) throw new RocketError('RC_ERR_LISTEN_BIND', `cannot accept on the inherited ${formatListenAddress(address)}: ${util.getSystemErrorName(error)}`);
        const port = boundPort(kept);
        const shown = address.kind === 'tcp' ? { ...address, port: port ?? address.port } : address;
        bound.push({ socket: kept, address: formatListenAddress(shown), pollable: address.kind === 'tcp' });
        continue;
      }
      if (address.kind === 'unix') await removeStaleUnixSocket(address);
      const host = address.kind === 'tcp' && net.isIP(address.host) === 0 ? (await dns.lookup(address.host)).address : null;
      const socket = bindSocket(address.kind === 'unix' ? { path: address.path } : { host: host ?? address.host, port: address.port });
      const fail = (errno: number) => new RocketError('RC_ERR_LISTEN_BIND', `cannot listen on ${formatListenAddress(address)}: ${util.getSystemErrorName(errno)}`);
      if (typeof socket === 'number') throw fail(socket);
      if (address.kind === 'unix') {
        try {
          applySocketAccess(address);
        } catch (error) {
          socket.close();
          throw error;
        }
      }
      // A unix socket's path is already ours (bind fails on a live one); a TCP port is known free only once listening.
      const error = address.kind === 'unix' ? 0 : acceptOn(socket, (handle) => onConnection(handle, index), () => {});
      if (error !== 0) {
        socket.close();
        throw fail(error);
      }
      const port = boundPort(socket);
      const shown = address.kind === 'tcp' ? { ...address, port: port ?? address.port } : address;
      bound.push({ socket, address: formatListenAddress(shown), pollable: address.kind === 'tcp' });
    }
  } catch (error) {
    for (const l of bound) l.socket.close();
    throw error instanceof RocketError ? error : new RocketError('RC_ERR_LISTEN_BIND', `cannot listen: ${(error as Error).message}`, { cause: error });
  }
  return bound;
}

/**
 * Makes way for a unix socket: a socket file left by a crashed cluster
 * (nothing answers on it) is removed. One that answers belongs to a live
 * process, and anything that is not a socket (a regular file, a directory)
 * may be someone's data: both are errors that name the path, and nothing is
 * removed.
 */
async function removeStaleUnixSocket(address: Extract<ListenAddress, { kind: 'unix' }>): Promise<void> {
  const file = address.path;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return; // nothing there
  }
  const fail = (why: string) => new RocketError('RC_ERR_LISTEN_BIND', `cannot listen on ${formatListenAddress(address)}: ${why}`);
  if (!st.isSocket()) throw fail(`${file} exists and is not a socket; remove it or choose another path`);
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (inUse) throw fail(`another process answers on ${file}`);
  fs.unlinkSync(file);
}

/**
 * Who may connect to a unix socket (--socket-mode, --socket-group), set on
 * the file right after bind, before it listens: nginx running as www-data
 * connects through a 0660 socket of group www-data.
 */
function applySocketAccess(address: Extract<ListenAddress, { kind: 'unix' }>): void {
  try {
    if (address.group !== undefined) fs.chownSync(address.path, -1, lookupGroup(address.group, '--socket-group').gid);
    if (address.mode !== undefined) fs.chmodSync(address.path, address.mode);
  } catch (error) {
    if (error instanceof RocketError) throw error;
    throw new RocketError('RC_ERR_LISTEN_BIND', `cannot set the owner or mode of ${address.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}
