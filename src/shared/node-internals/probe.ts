import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { closeHandle, handleOf, type NativeHandle } from './handles.js';
import { detachFromHttp, hasResponseInFlight, parserOf } from './http-connection.js';
import { socketsBetweenMessages } from './http-server.js';

/** What `probeInternals` found: all there, or the first internal that is not (and why). */
export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly missing: string; readonly reason: string };

interface Check {
  /** The internal, as docs/ARCHITECTURE.md names it. */
  readonly internal: string;
  /** Null when it is there with the expected shape, else why not. */
  run(): string | null;
}

/**
 * Checks, once at worker start, every Node internal that parking relies on,
 * through the same functions that use them later, so that a Node upgrade (or
 * an app) that removed or reshaped one is seen before any connection is
 * detached. `server` is the worker's http.Server, after 'listening'. Nothing
 * binds and no byte is exchanged: the stream handle and parser checks use a
 * scratch socket whose connect to a unix path nobody listens on is still
 * pending, fed to a scratch server (its parser consumes the handle, as a real
 * connection's does) and then detached as a parked connection would be.
 */
export function probeInternals(server: http.Server): ProbeResult {
  const scratch = new Scratch();
  try {
    for (const check of checks(server, scratch)) {
      let reason: string | null;
      try {
        reason = check.run();
      } catch (error) {
        reason = `throws ${error instanceof Error ? error.message : String(error)}`;
      }
      if (reason !== null) return { ok: false, missing: check.internal, reason };
    }
    return { ok: true };
  } finally {
    scratch.close();
  }
}

function checks(server: http.Server, scratch: Scratch): Check[] {
  return [
    {
      internal: 'net.Server#_listen2',
      run: () => {
        if (typeof (server as unknown as { _listen2?: unknown })._listen2 !== 'function') return 'not a function';
        return server.address() === null ? 'the server did not take the stand-in listen handle (address() is null)' : null;
      },
    },
    {
      internal: 'http.Server[Symbol(http.server.connections)].idle',
      run: () => (socketsBetweenMessages(server) === null ? 'no connection list with idle() on the listening server' : null),
    },
    {
      internal: 'net.Socket#_handle',
      run: () => {
        const handle = scratch.connect();
        if (!handle) return 'a connecting socket has no _handle';
        for (const method of ['readStart', 'readStop', 'close'] as const) if (typeof handle[method] !== 'function') return `its handle has no ${method}()`;
        return typeof handle.writeQueueSize === 'number' ? null : 'its handle has no writeQueueSize';
      },
    },
    {
      internal: 'net.Socket#parser',
      run: () => {
        scratch.serve();
        const parser = parserOf(scratch.socket);
        if (!parser) return 'an http.Server connection has no parser';
        if (typeof parser.unconsume !== 'function') return 'its parser has no unconsume()';
        return parser._consumed === true ? null : 'its parser did not consume the stream handle (_consumed)';
      },
    },
    {
      internal: 'net.Socket#_httpMessage',
      run: () => {
        const res = scratch.response();
        res.assignSocket(scratch.socket);
        const attached = hasResponseInFlight(scratch.socket);
        res.detachSocket(scratch.socket);
        if (!attached) return 'an assigned response is not seen on its socket';
        return hasResponseInFlight(scratch.socket) ? 'a detached response is still seen on its socket' : null;
      },
    },
    {
      internal: 'parser.unconsume',
      run: () => {
        const parser = parserOf(scratch.socket);
        const handle = scratch.detach();
        if (!handle) return 'detaching returned no handle';
        if (parser?._consumed !== false) return 'the parser still consumes the handle after detaching';
        return handleOf(scratch.socket) === null ? null : 'the socket still has its handle after detaching';
      },
    },
  ];
}

let scratchCount = 0;

/** A socket with a real, unconnected stream handle, and an http.Server connection on it. */
class Scratch {
  readonly socket = new net.Socket();
  #handle: NativeHandle | null = null;
  #response: http.ServerResponse | null = null;

  connect(): NativeHandle | null {
    // The connect fails (ENOENT) on a later tick, when the socket is gone already.
    this.socket.on('error', () => {});
    this.socket.connect({ path: scratchPath() });
    this.#handle = handleOf(this.socket);
    return this.#handle;
  }

  serve(): void {
    http.createServer().emit('connection', this.socket);
  }

  response(): http.ServerResponse {
    this.#response ??= new http.ServerResponse(new http.IncomingMessage(this.socket));
    return this.#response;
  }

  detach(): NativeHandle | null {
    return detachFromHttp(this.socket);
  }

  /** A handle still on the socket closes with it; a detached one is ours to close. */
  close(): void {
    const detached = this.#handle !== null && handleOf(this.socket) !== this.#handle;
    this.socket.destroy();
    if (detached && this.#handle) closeHandle(this.#handle);
  }
}

/** A unix socket path nobody listens on, short enough for `sun_path` (108 bytes). */
function scratchPath(): string {
  const name = `rocket-cluster-probe-${process.pid}-${scratchCount++}`;
  const full = path.join(os.tmpdir(), name);
  return full.length < 100 ? full : name;
}
