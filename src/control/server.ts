import fs from 'node:fs';
import net from 'node:net';
import { z } from 'zod';
import {
  CONTROL_VERSION,
  ControlRequestSchema,
  MAX_REQUEST_BYTES,
  type ControlReply,
  type ControlRequest,
  type ControlResults,
} from '../shared/control-protocol.js';
import { RocketError } from '../shared/errors.js';
import { assertNever } from '../shared/protocol.js';
import type { Logger } from '../shared/logger.js';
import { LineReader } from './line-reader.js';
import { probeSocket } from './probe.js';
import { ensureRuntimeDir, ensureUserRuntimeDir, socketPath } from './runtime-dir.js';

/** What the master does for each command; errors are RocketErrors the CLI prints. */
export interface ControlHandlers {
  status(): Promise<ControlResults['status']>;
  reload(): Promise<ControlResults['reload']>;
  /** Resolves once the new master is ready; the hand-over goes on after the reply. */
  upgrade(): Promise<ControlResults['upgrade']>;
  scale(change: { to?: number; by?: number }): ControlResults['scale'];
  /** Resolves once the cluster has stopped; the reply goes out then. */
  stop(): Promise<ControlResults['stop']>;
  logs: {
    /** The last `lines` lines, and with `follow` every later line until `stop()`. */
    read(lines: number, follow: ((line: string) => void) | null): Promise<{ lines: readonly string[]; stop(): void }>;
  };
}

/** A client that does not send its request within this is hung up on. */
const REQUEST_TIMEOUT_MS = 5000;
/** Control connections at once; the CLI uses one per command. */
const MAX_CONNECTIONS = 32;
/** A `logs --follow` reader this far behind is cut off rather than buffered without bound. */
const MAX_FOLLOW_BACKLOG = 4 * 1024 * 1024;

/**
 * The cluster's control socket: `<runtime dir>/<name>.sock`, mode 0600 from
 * the moment it exists, in a 0700 directory owned by the user. There is no
 * TCP control port.
 */
export class ControlServer {
  readonly path: string;
  readonly #server: net.Server;
  readonly #ino: number;
  /** `logs --follow` readers: they end when the cluster stops, or they would keep the master alive. */
  readonly #followers: Set<net.Socket>;

  private constructor(path: string, server: net.Server, ino: number, followers: Set<net.Socket>) {
    this.path = path;
    this.#server = server;
    this.#ino = ino;
    this.#followers = followers;
  }

  /**
   * Claims the name (refusing one in use), binds the socket and starts
   * answering. With an `owner` (--user), the socket and its directory are that
   * user's (ensureUserRuntimeDir), so the master still owns them once it has
   * dropped root.
   */
  static async open(name: string, handlers: ControlHandlers, log: Logger, owner: { readonly uid: number; readonly gid: number } | null = null): Promise<ControlServer> {
    const p = socketPath(owner ? ensureUserRuntimeDir(owner) : ensureRuntimeDir(), name);
    await removeStaleSocket(p, name);
    const followers = new Set<net.Socket>();
    const server = net.createServer((socket) => serve(socket, handlers, log, followers));
    server.maxConnections = MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? new RocketError('RC_ERR_CONTROL_NAME_IN_USE', `a cluster named "${name}" is already running (socket ${p}); stop it or choose another --name`)
            : new RocketError('RC_ERR_CONTROL_DIR', `cannot listen on ${p}: ${e.message}`),
        ),
      );
      // The bind is synchronous inside listen(): with this umask the socket is
      // created 0600, never wider, not even between bind and a chmod.
      const umask = process.umask(0o177);
      try {
        server.listen(p, resolve);
      } finally {
        process.umask(umask);
      }
    });
    // Listening: an accept error now (EMFILE, when libuv cannot keep its spare descriptor) is emitted as 'error' on
    // the server, and without a listener it would end the master. The CLI's next try gets through once descriptors free.
    server.removeAllListeners('error');
    server.on('error', (e: NodeJS.ErrnoException) => log.debug({ code: e.code }, 'control socket: accept failed'));
    if (owner && process.getuid?.() === 0) fs.chownSync(p, owner.uid, owner.gid);
    const st = fs.lstatSync(p);
    if (!st.isSocket() || (st.mode & 0o777) !== 0o600) {
      server.close();
      throw new RocketError('RC_ERR_CONTROL_DIR', `control socket ${p} was not created 0600 (mode ${(st.mode & 0o777).toString(8)})`);
    }
    return new ControlServer(p, server, st.ino, followers);
  }

  /**
   * Stops accepting, ends every `logs --follow` stream, and removes the
   * socket unless another cluster has replaced it since. A command being
   * answered (the `stop` that stopped the cluster) still gets its reply.
   */
  close(): void {
    this.#server.close();
    for (const socket of this.#followers) socket.end();
    try {
      if (fs.lstatSync(this.path).ino === this.#ino) fs.unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

/**
 * A socket file whose cluster is gone refuses connections: that one is
 * stale and removed. One that answers belongs to a running cluster; anything
 * that is not a socket is left alone.
 */
async function removeStaleSocket(p: string, name: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new RocketError('RC_ERR_CONTROL_DIR', `${p} exists and is not a socket; refusing to replace it`);
  const answer = await probeSocket(p);
  if (answer === 'live') {
    throw new RocketError('RC_ERR_CONTROL_NAME_IN_USE', `a cluster named "${name}" is already running (socket ${p}); stop it or choose another --name`);
  }
  if (answer instanceof Error) throw new RocketError('RC_ERR_CONTROL_DIR', `cannot check ${p}: ${answer.message}`);
  fs.rmSync(p, { force: true });
}

function send(socket: net.Socket, reply: ControlReply): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
}

function refuse(socket: net.Socket, message: string): void {
  send(socket, { ok: false, error: { code: 'RC_ERR_CONTROL_REQUEST', message } });
  socket.end();
}

/** One connection, one request: read a line, validate it, act, reply. */
function serve(socket: net.Socket, handlers: ControlHandlers, log: Logger, followers: Set<net.Socket>): void {
  const reader = new LineReader(MAX_REQUEST_BYTES);
  let handled = false;
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => {}); // a CLI that went away mid-reply
  socket.on('data', (chunk: Buffer) => {
    if (handled) return; // one request per connection; later bytes are ignored
    const lines = reader.push(chunk);
    if (lines === 'too-large') {
      handled = true;
      log.warn({ limit: MAX_REQUEST_BYTES }, 'control request refused: too large');
      refuse(socket, `request larger than ${MAX_REQUEST_BYTES} bytes`);
      return;
    }
    const line = lines[0];
    if (line === undefined) return;
    handled = true;
    socket.setTimeout(0);
    const request = parseRequest(line);
    if (typeof request === 'string') {
      log.warn({ reason: request }, 'control request refused');
      refuse(socket, request);
      return;
    }
    // Reads (monit asks for status every second) would flood the log at info.
    const reads = request.cmd === 'status' || request.cmd === 'logs';
    log[reads ? 'debug' : 'info']({ cmd: request.cmd }, 'control command');
    void answer(socket, request, handlers, followers);
  });
}

function parseRequest(line: string): ControlRequest | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return 'request is not JSON';
  }
  const parsed = ControlRequestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const v = (json as { v?: unknown } | null)?.v;
  if (v !== undefined && v !== CONTROL_VERSION) return `protocol version ${JSON.stringify(v)} is not ${CONTROL_VERSION}: use the CLI of the same version as the cluster`;
  return `invalid request: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`;
}

async function answer(socket: net.Socket, request: ControlRequest, handlers: ControlHandlers, followers: Set<net.Socket>): Promise<void> {
  try {
    switch (request.cmd) {
      case 'status':
        send(socket, { ok: true, result: await handlers.status() });
        break;
      case 'reload':
        send(socket, { ok: true, result: await handlers.reload() });
        break;
      case 'upgrade':
        send(socket, { ok: true, result: await handlers.upgrade() });
        break;
      case 'scale':
        send(socket, { ok: true, result: handlers.scale(request) });
        break;
      case 'stop':
        send(socket, { ok: true, result: await handlers.stop() });
        break;
      case 'logs':
        await streamLogs(socket, request.lines, request.follow, handlers.logs, followers);
        return;
      default:
        // A command added to the schema without a case here fails to compile; were one to slip through, its client still gets a reply.
        assertNever(request);
    }
  } catch (error) {
    const e = error instanceof RocketError ? error : new RocketError('RC_ERR_CONTROL_REFUSED', String(error));
    send(socket, { ok: false, error: e.toJSON() });
  }
  socket.end();
}

async function streamLogs(socket: net.Socket, lines: number, follow: boolean, logs: ControlHandlers['logs'], followers: Set<net.Socket>): Promise<void> {
  // A follower is registered before the tail is read: a stop while reading ends it too.
  if (follow) followers.add(socket);
  let stopped = false;
  let unfollow = (): void => {
    stopped = true;
  };
  socket.once('close', () => {
    unfollow();
    followers.delete(socket);
  });
  const onLine = (line: string) => {
    if (socket.writableLength > MAX_FOLLOW_BACKLOG) {
      unfollow();
      socket.destroy();
      return;
    }
    send(socket, { line });
  };
  const read = await logs.read(lines, follow ? onLine : null);
  if (stopped || socket.destroyed) {
    read.stop();
    return;
  }
  unfollow = (): void => {
    read.stop();
  };
  for (const line of read.lines) send(socket, { line });
  send(socket, { ok: true, result: { lines: read.lines.length } });
  if (!follow) {
    socket.end();
    return;
  }
  socket.resume();
}
