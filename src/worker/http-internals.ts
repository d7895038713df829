import type http from 'node:http';
import type net from 'node:net';
import { handleOf, takeHandle, type NativeHandle } from '../shared/handles.js';

/**
 * Everything that touches `node:http` internals lives here, so that a Node
 * upgrade breaks one file and its tests (run on Node 20, 22 and 24 in CI).
 *
 * - Node's http server parser reads the socket's handle directly ("consumes"
 *   it), so JS never sees request bytes; to move a socket, the parser must
 *   release the handle first.
 * - Node's connection list knows which parsers sit between messages (no
 *   byte of a next request read): the "park only between requests" invariant
 *   is read from there, once per sweep, at no cost per request.
 * - An http.Server that never listens has no connection tracking, so
 *   headersTimeout/requestTimeout are not enforced. A listen through a handle
 *   that accepts nothing (as `node:cluster` workers do in round-robin mode) runs
 *   Node's own setup: 'listening' is emitted and the tracking starts.
 */

interface Parser {
  socket: net.Socket | null;
  _consumed?: boolean;
  unconsume(): void;
}

interface ConnectionsList {
  idle(): Parser[];
}

type ParsedSocket = net.Socket & { parser?: Parser | null };

let connectionsSymbol: symbol | undefined;

/**
 * Sockets whose parser sits between messages: the last message is complete and
 * no byte of a next one has been read (Node's own notion of an idle connection,
 * the one `server.closeIdleConnections()` uses). Node keeps this list once the
 * server has emitted 'listening'. Returns null if this Node has no such list, in
 * which case nothing may be parked.
 */
export function socketsBetweenMessages(server: http.Server): Set<net.Socket> | null {
  connectionsSymbol ??= Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connections');
  const list = connectionsSymbol && (server as unknown as Record<symbol, ConnectionsList | undefined>)[connectionsSymbol];
  if (!list || typeof list.idle !== 'function') return null;
  const sockets = new Set<net.Socket>();
  for (const parser of list.idle()) if (parser.socket) sockets.add(parser.socket);
  return sockets;
}

/** The socket still belongs to the http parser (false once upgraded or closed). */
export function hasParser(socket: net.Socket): boolean {
  return Boolean((socket as ParsedSocket).parser);
}

/** Bytes waiting to be written, in JS and in libuv. */
export function pendingWrite(socket: net.Socket): number {
  return socket.writableLength + (handleOf(socket)?.writeQueueSize ?? 0);
}

/**
 * Takes the socket's handle away from node:http without closing it: stop
 * reading, make the parser release the handle, then destroy the JS socket
 * (Node's 'close' bookkeeping frees the parser and forgets the connection).
 * Only call between requests (see the connection tracker).
 */
export function detachFromHttp(socket: net.Socket): NativeHandle | null {
  const parser = (socket as ParsedSocket).parser;
  const handle = handleOf(socket);
  if (!handle) return null;
  handle.readStop();
  handle.reading = false;
  if (parser?._consumed) {
    parser.unconsume();
    parser._consumed = false;
  }
  return takeHandle(socket);
}

/**
 * Makes a server that never binds behave as a listening one: `_handle` is a
 * stand-in that accepts nothing, and Node's `_listen2` does the rest (emits
 * 'listening' on the next tick, which starts the timeout checks, and makes
 * `address()` and `close()` work). `node:cluster` round-robin workers do the same.
 */
export function listenWithoutBinding(server: net.Server, address: { host: string; port: number }, onClose: () => void): void {
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
  const internals = server as unknown as { _handle: unknown; _listen2(address: string, port: number, type: number, backlog: number): void };
  internals._handle = standIn;
  internals._listen2(address.host, address.port, family === 'IPv6' ? 6 : 4, 511);
}

/** Tells a client the keep-alive timeout it can count on, though Node's own idle timer is off here. */
export function advertiseKeepAlive(res: http.ServerResponse, ms: number): void {
  (res as unknown as { _keepAliveTimeout: number })._keepAliveTimeout = ms;
}
