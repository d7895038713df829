import { once } from 'node:events';
import net from 'node:net';
import util from 'node:util';
import { formatListenAddress, type ClusterConfig, type ListenAddress } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import { acceptRawHandles } from '../shared/node-internals/listen-handle.js';
import { acceptOn, openListenSocket } from '../shared/node-internals/shared-listener.js';
import type { BoundListener, OnConnection, SharedListener } from './listener.js';
import { describeFd, type PassedSocket } from './proc-sockets.js';

/**
 * systemd socket activation (sd_listen_fds(3)): a `.socket` unit binds the
 * addresses and starts the service with them as descriptors 3, 4, …, saying
 * so in LISTEN_PID (the pid they are for), LISTEN_FDS (how many) and
 * LISTEN_FDNAMES (their names, `:`-separated). The master then binds nothing:
 * it serves those sockets, on either accept path, in place of binding.
 *
 * Which socket serves which `--listen` address:
 * - no `--listen` given (not by flag, variable or config file): every passed
 *   socket is served, in order, as plain HTTP;
 * - `--listen` given: each address takes the passed socket on its port (a
 *   unix: address, the one bound to its path), the one on the same host
 *   first; port 0 takes the next TCP socket in order. Every address must find
 *   one and every socket must be taken, else the start fails naming them, so
 *   a socket unit and a command line that disagree are seen at once. The
 *   address's own settings (https://, TLS files) apply to its socket.
 * Names cannot tell addresses apart (systemd gives every socket of one socket
 * unit the same name), so they are only shown in the log.
 */

/** A socket passed by the service manager, with what /proc says it is. */
export interface Passed {
  readonly fd: number;
  /** From LISTEN_FDNAMES, if given. */
  readonly name: string | null;
  readonly socket: PassedSocket;
}

/** The first descriptor passed (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;
const VARIABLES = ['LISTEN_PID', 'LISTEN_FDS', 'LISTEN_FDNAMES'] as const;

/**
 * The descriptors passed to this process, or null. The variables are removed
 * from `env` in any case, as sd_listen_fds(unset_environment) does: they are
 * never meant for a child (the workers and monitor inherit the master's
 * environment, and their pids differ).
 */
export function takeListenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): Passed[] | null {
  const [listenPid, count, names] = VARIABLES.map((name) => env[name]);
  for (const name of VARIABLES) delete env[name];
  if (listenPid === undefined || Number(listenPid) !== pid) return null;
  const n = Number(count);
  if (!Number.isSafeInteger(n) || n < 1) return null;
  const nameList = names?.split(':') ?? [];
  return Array.from({ length: n }, (_, i) => ({ fd: FIRST_FD + i, name: nameList[i] || null, socket: describeFd(FIRST_FD + i) }));
}

/** "fd 3 ([::]:8080, rocket.socket)" */
export function describePassed(p: Passed): string {
  const s = p.socket;
  const what = s.kind === 'tcp' ? formatListenAddress({ kind: 'tcp', host: s.host, port: s.port }) : s.kind === 'unix' ? `unix:${s.path ?? '(unbound)'}` : s.what;
  return `fd ${p.fd} (${what}${p.name ? `, ${p.name}` : ''})`;
}

export interface Activation {
  /** The addresses served, in --listen order: the config's, or the passed sockets' own when no --listen was given. */
  readonly listen: readonly ListenAddress[];
  /** The passed socket of each address, in the same order. */
  readonly sockets: readonly Passed[];
  /** Things the operator should know (an address served by a socket on another host), for the log. */
  readonly notes: readonly string[];
}

const fail = (message: string) => new RocketError('RC_ERR_LISTEN_BIND', `socket activation: ${message}`);

/** Pairs --listen addresses with the passed sockets (see the rules above); throws naming what does not fit. */
export function matchPassed(listen: readonly ListenAddress[], passed: readonly Passed[], listenGiven: boolean): Activation {
  for (const p of passed) {
    if (p.socket.kind === 'other') throw fail(`${describePassed(p)} is not a TCP or unix stream socket: use ListenStream= in the socket unit`);
    if (!p.socket.listening) throw fail(`${describePassed(p)} does not listen: rocket-cluster takes listening sockets (Accept=no, the default, in the socket unit)`);
    if (p.socket.kind === 'unix' && p.socket.path === null) throw fail(`${describePassed(p)} is a unix socket bound to no path`);
  }
  if (!listenGiven) return { listen: passed.map(ownAddress), sockets: passed, notes: [] };
  const free = [...passed];
  const notes: string[] = [];
  const sockets = listen.map((address) => {
    const i = pick(address, free);
    const p = free[i];
    if (p === undefined) {
      throw fail(
        `no passed socket is ${formatListenAddress(address)} (passed: ${passed.map(describePassed).join(', ')}): add it to the socket unit (ListenStream=), or leave --listen out to serve exactly the passed sockets`,
      );
    }
    free.splice(i, 1);
    if (address.kind === 'tcp' && p.socket.kind === 'tcp' && address.port !== 0 && canonicalHost(address.host) !== p.socket.host) {
      notes.push(`--listen ${formatListenAddress(address)} is served by ${describePassed(p)}: the socket unit decides the host`);
    }
    return p;
  });
  const [extra] = free;
  if (extra) throw fail(`${describePassed(extra)} is not a --listen address: add --listen for it, or leave --listen out to serve exactly the passed sockets`);
  return { listen, sockets, notes };
}

function pick(address: ListenAddress, free: readonly Passed[]): number {
  if (address.kind === 'unix') return free.findIndex((p) => p.socket.kind === 'unix' && p.socket.path === address.path);
  const tcp = free.flatMap((p, i) => (p.socket.kind === 'tcp' ? [{ i, host: p.socket.host, port: p.socket.port }] : []));
  if (address.port === 0) return tcp[0]?.i ?? -1;
  const samePort = tcp.filter((t) => t.port === address.port);
  return (samePort.find((t) => t.host === canonicalHost(address.host)) ?? samePort[0])?.i ?? -1;
}

/** IPv6 hosts as /proc's reading writes them (`::1`, not `0:0:…:1`); anything else as given. */
function canonicalHost(host: string): string {
  return net.isIPv6(host) ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
}

function ownAddress(p: Passed): ListenAddress {
  const s = p.socket;
  if (s.kind === 'tcp') return { kind: 'tcp', host: s.host, port: s.port };
  if (s.kind === 'unix' && s.path !== null) return { kind: 'unix', path: s.path };
  throw fail(`${describePassed(p)} cannot be served`); // matchPassed checked it
}

/** The passed sockets this master serves, set once by `useSocketActivation` (one master per process). */
let activated: Activation | null = null;

/**
 * Called by runMaster before any child starts: takes the passed sockets (if
 * LISTEN_PID is this process) and pairs them with the config's addresses.
 * Returns the config to run with (its `listen` is the passed sockets' own
 * when none was given) and the activation, or null without one.
 */
export function useSocketActivation(config: ClusterConfig, listenGiven: boolean): { config: ClusterConfig; activation: Activation | null } {
  const passed = takeListenFds();
  if (passed === null) return { config, activation: null };
  activated = matchPassed(config.listen, passed, listenGiven);
  return { config: { ...config, listen: activated.listen }, activation: activated };
}

/** The sockets to serve in place of binding (accept-path.ts), or null. */
export function activatedSockets(): Activation | null {
  return activated;
}

/** The address a passed socket really has, as `listening` shows it (https:// for a TLS address). */
function shown(address: ListenAddress, p: Passed): string {
  const s = p.socket;
  if (s.kind !== 'tcp') return formatListenAddress(address);
  return formatListenAddress({ kind: 'tcp', host: s.host, port: s.port, ...(address.kind === 'tcp' && address.tls ? { tls: address.tls } : {}) });
}

/** `--accept master`: a net.Server on each passed descriptor (public API), accepting raw handles as bindAll's do. */
export async function adoptAll(a: Activation, onConnection: OnConnection): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const [index, p] of a.sockets.entries()) {
      const server = net.createServer({ pauseOnConnect: true });
      const listening = once(server, 'listening');
      server.listen({ fd: p.fd });
      await listening.catch((error: NodeJS.ErrnoException) => {
        throw fail(`cannot serve ${describePassed(p)}: ${error.code ?? error.message}`);
      });
      acceptRawHandles(server, (handle) => onConnection(handle, index));
      bound.push({ server, address: shown(a.listen[index]!, p) });
    }
  } catch (error) {
    for (const l of bound) l.server.close();
    throw error;
  }
  return bound;
}

/**
 * `--accept workers`: each passed descriptor as a listen socket the master
 * lends to workers, polled by the master until one accepts. A passed unix
 * socket is pollable and swappable like a TCP one: only a descriptor that
 * bound a path unlinks it on close, and this one was bound by systemd.
 */
export function adoptShared(a: Activation, onConnection: OnConnection): SharedListener[] {
  const bound: SharedListener[] = [];
  try {
    for (const [index, p] of a.sockets.entries()) {
      const socket = openListenSocket(p.fd);
      if (typeof socket === 'number') throw fail(`cannot serve ${describePassed(p)}: ${util.getSystemErrorName(socket)}`);
      const error = acceptOn(socket, (handle) => onConnection(handle, index), () => {});
      if (error !== 0) {
        socket.close();
        throw fail(`cannot serve ${describePassed(p)}: ${util.getSystemErrorName(error)}`);
      }
      bound.push({ socket, address: shown(a.listen[index]!, p), pollable: true });
    }
  } catch (error) {
    for (const l of bound) l.socket.close();
    throw error;
  }
  return bound;
}
