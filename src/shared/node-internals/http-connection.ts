import type http from 'node:http';
import type net from 'node:net';
import { handleOf, takeHandle, type NativeHandle } from './handles.js';

/**
 * One connection of a `node:http` server, as the worker needs to see it to
 * park it. Node's http server parser reads the socket's handle directly
 * ("consumes" it), so JS never sees request bytes; to move a socket, the parser
 * must release the handle first. Internals used: `socket.parser` with
 * `unconsume()` and `_consumed`, and `socket._httpMessage`.
 */

export interface Parser {
  socket: net.Socket | null;
  _consumed?: boolean;
  unconsume(): void;
}

type ParsedSocket = net.Socket & { parser?: Parser | null; _httpMessage?: http.ServerResponse | null };

/** The http parser attached to this socket; null once upgraded or closed. */
export function parserOf(socket: net.Socket): Parser | null {
  return (socket as ParsedSocket).parser ?? null;
}

/** The socket still belongs to the http parser (false once upgraded or closed). */
export function hasParser(socket: net.Socket): boolean {
  return parserOf(socket) !== null;
}

/**
 * A response is attached to the socket and not finished. It also sees
 * responses that no 'request' event announced (a 'checkContinue' listener, or
 * Node's own 400 for a malformed request).
 */
export function hasResponseInFlight(socket: net.Socket): boolean {
  return Boolean((socket as ParsedSocket)._httpMessage);
}

/**
 * Takes the socket's handle away from node:http without closing it: stop
 * reading, make the parser release the handle, then destroy the JS socket
 * (Node's 'close' bookkeeping frees the parser and forgets the connection).
 * Only call between requests. Null if the socket has no handle left.
 */
export function detachFromHttp(socket: net.Socket): NativeHandle | null {
  const parser = parserOf(socket);
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

