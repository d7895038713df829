import type http from 'node:http';
import type net from 'node:net';

/**
 * The `http.Server` of a worker never binds: it is fed sockets the master
 * accepted. Node only starts its connection tracking (which enforces
 * `headersTimeout`/`requestTimeout` and knows which connections sit between
 * messages) once a server has emitted 'listening'. Internals used:
 * `server._listen2()` with a stand-in `server._handle`, the connection list
 * under `Symbol(http.server.connections)` and its `idle()`, and the
 * `maxHeaderSize`/`connectionsCheckingInterval` fields read after construction.
 */

/** Node's list of a listening server's connections (C++ `ConnectionsList`); each entry is a parser. */
interface ConnectionsList {
  idle(): { socket: net.Socket | null }[];
}

const CONNECTIONS_SYMBOL = 'http.server.connections';

/** Symbols are per Node process, so one lookup serves every server. */
let connectionsSymbol: symbol | undefined;

function connectionsOf(server: http.Server): ConnectionsList | undefined {
  connectionsSymbol ??= Object.getOwnPropertySymbols(server).find((s) => s.description === CONNECTIONS_SYMBOL);
  return connectionsSymbol === undefined ? undefined : (server as unknown as Record<symbol, ConnectionsList | undefined>)[connectionsSymbol];
}

/**
 * Sockets whose parser sits between messages: the last message is complete and
 * no byte of a next one has been read (Node's own notion of an idle connection,
 * the one `server.closeIdleConnections()` uses). Node keeps this list once the
 * server has emitted 'listening'. Returns null if this Node has no such list, in
 * which case nothing may be parked.
 */
export function socketsBetweenMessages(server: http.Server): Set<net.Socket> | null {
  const list = connectionsOf(server);
  if (!list || typeof list.idle !== 'function') return null;
  const sockets = new Set<net.Socket>();
  for (const parser of list.idle()) if (parser.socket) sockets.add(parser.socket);
  return sockets;
}

interface ListenInternals {
  _handle: unknown;
  _listen2?: (address: string, port: number, type: number, backlog: number) => void;
}

/**
 * Makes a server that never binds behave as a listening one: `_handle` is a
 * stand-in that accepts nothing, and Node's `_listen2` does the rest (emits
 * 'listening' on the next tick, which starts the timeout checks, and makes
 * `address()` and `close()` work). `node:cluster` round-robin workers do the same.
 * Returns false if this Node has no `_listen2`: then 'listening' is emitted by
 * hand, which still starts Node's timeout checks (its http.Server listens for
 * its own 'listening'), and `address()` answers null.
 */
export function listenWithoutBinding(server: net.Server, address: { host: string; port: number }, onClose: () => void): boolean {
  const family = address.host.includes(':') ? 'IPv6' : 'IPv4';
  const standIn = {
    listen: () => 0,
    close: () => onClose(),
    getsockname: (out: Record<string, unknown>) => {
      out.address = address.host;
      out.family = family;
      out.port = address.port;
      return 0;
    },
    ref: () => {},
    unref: () => {},
  };
  const internals = server as unknown as ListenInternals;
  if (typeof internals._listen2 !== 'function') {
    process.nextTick(() => server.emit('listening'));
    return false;
  }
  internals._handle = standIn;
  internals._listen2(address.host, address.port, family === 'IPv6' ? 6 : 4, 511);
  return true;
}

/** Limits that have no public setter once the server exists. */
export interface LateLimits {
  /** Largest request head, else 431: Node reads `server.maxHeaderSize` as each connection arrives. */
  readonly maxHeaderSize: number;
  /** How often the timeout checks run: Node reads it when 'listening' fires. */
  readonly connectionsCheckingInterval: number;
}

/**
 * Applies limits to a server the app created itself (`http.createServer()`
 * takes both as options only). Assigning works because Node reads them late:
 * call before the server listens and before its first connection.
 */
export function setLateLimits(server: http.Server, limits: LateLimits): void {
  const tunable = server as http.Server & { maxHeaderSize: number; connectionsCheckingInterval: number };
  tunable.maxHeaderSize = limits.maxHeaderSize;
  tunable.connectionsCheckingInterval = limits.connectionsCheckingInterval;
}
