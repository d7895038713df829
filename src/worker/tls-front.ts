import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';
import { rawSocketOf } from '../shared/node-internals/tls-socket.js';
import type { TlsMaterial } from '../shared/protocol.js';
import { secureContextOptions } from '../shared/tls-context.js';

export interface TlsFrontEvents {
  /** The handshake of `raw` ended: node:http now serves it as `secured`. */
  secured(raw: net.Socket, secured: tls.TLSSocket): void;
  /** A client failed its handshake (plain HTTP sent to a TLS port, an unknown CA, a timeout). */
  failed(error: Error): void;
}

/**
 * TLS terminated in the worker. The master accepts TCP and never reads a
 * byte; here a raw socket from a TLS address goes through a `tls.Server` that
 * never listens (one per https:// address, built from the certificates the
 * master sent), whose secured sockets are handed to the app's http.Server as
 * new connections, as `https.Server` itself does. An app that is itself an
 * https (or tls, or http2 secure) server does its own handshakes with its own
 * certificates, on every address.
 *
 * With --http2, a client that offers `h2` in its handshake (ALPN) is served
 * by an HTTP/2 session whose requests (the compatibility API's request and
 * response) go to the app's 'request' listeners through the app's server, as
 * its HTTP/1.1 requests do; a client that does not gets HTTP/1.1.
 *
 * A handshake gets `handshakeMs` (--headers-timeout) to finish, plain HTTP
 * sent to a TLS port fails it at its first byte, and either way the
 * connection is closed: neither costs a worker more than that.
 */
export class TlsFront {
  readonly #handshakeMs: number;
  readonly #events: TlsFrontEvents;
  readonly #fronts = new Map<number, tls.Server>();
  #app: tls.Server | null = null;
  #http: http.Server | null = null;
  readonly #timers = new WeakMap<net.Socket, NodeJS.Timeout>();
  readonly #http2: boolean;
  readonly #idleMs: number;
  /** Serves the `h2` connections (never listens): made at the first one. */
  #h2: http2.Http2Server | null = null;
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  #goingAway = false;

  /** `idleMs` (--keep-alive-timeout): an HTTP/2 session quiet this long is closed, as an idle HTTP/1.1 connection is. */
  constructor(options: { handshakeMs: number; http2: boolean; idleMs: number }, events: TlsFrontEvents) {
    this.#handshakeMs = options.handshakeMs;
    this.#http2 = options.http2;
    this.#idleMs = options.idleMs;
    this.#events = events;
  }

  /** The app's server: if it terminates TLS itself, every connection goes through its handshake. */
  serveWith(server: net.Server): void {
    if (server instanceof tls.Server) {
      this.#app = server;
      server.prependListener('secureConnection', (s: tls.TLSSocket) => this.#secured(s));
      server.on('tlsClientError', (error: Error) => this.#events.failed(error));
    } else {
      this.#http = server as http.Server;
    }
  }

  /** The app's own server terminates TLS (an unmodified https script). */
  get appTerminates(): boolean {
    return this.#app !== null;
  }

  /** The certificates of the https:// addresses, from the master (its first message). */
  configure(listeners: readonly TlsMaterial[]): void {
    for (const m of listeners) {
      const front = tls.createServer({
        ...secureContextOptions(m),
        ALPNProtocols: this.#http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
        // With a CA, a client certificate is asked for and its verdict left to the app (req.socket.authorized).
        ...(m.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: false }),
      });
      front.on('secureConnection', (s: tls.TLSSocket) => {
        this.#secured(s);
        if (s.alpnProtocol === 'h2') this.#h2Server().emit('connection', s);
        else this.#http?.emit('connection', s);
      });
      front.on('tlsClientError', (error: Error) => this.#events.failed(error));
      this.#fronts.set(m.index, front);
    }
  }

  /** Whether a connection from listen address `listener` is TLS here. */
  secures(listener: number | undefined): boolean {
    return this.#app !== null || (listener !== undefined && this.#fronts.has(listener));
  }

  /** Starts the handshake of `raw` (`secures(listener)` was true). */
  take(raw: net.Socket, listener: number | undefined): void {
    const server = this.#app ?? (listener === undefined ? undefined : this.#fronts.get(listener));
    if (!server) {
      raw.destroy();
      return;
    }
    // The worker makes sockets half-open (a plain HTTP client may half-close after its request); under TLS a
    // client's FIN must end the TLS socket, or one that leaves mid-handshake is never closed.
    raw.allowHalfOpen = false;
    const timer = setTimeout(() => raw.destroy(), this.#handshakeMs);
    this.#timers.set(raw, timer);
    raw.once('close', () => clearTimeout(timer));
    server.emit('connection', raw);
  }

  /**
   * Leaving (drain, retirement): every HTTP/2 session gets a GOAWAY. Its
   * streams in flight finish, the client opens no new one here, and the
   * session closes its connection once they are done.
   */
  goAway(): void {
    this.#goingAway = true;
    for (const session of this.#sessions) session.close();
  }

  #h2Server(): http2.Http2Server {
    if (this.#h2) return this.#h2;
    const server = http2.createServer();
    server.on('session', (session: http2.ServerHttp2Session) => {
      if (this.#goingAway) {
        session.close();
        return;
      }
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
      // Quiet this long: closed gracefully (GOAWAY), so a stream still running, quiet or not, may finish.
      session.setTimeout(this.#idleMs, () => session.close());
    });
    // Through the app's server's emit: the crash guard and the request hook (counts, access log, metrics) see it
    // as they see an HTTP/1.1 request; the request gate, which enforces HTTP/1.1's framing, lets it by.
    server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      if (this.#http) this.#http.emit('request', req, res);
      else res.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    this.#h2 = server;
    return server;
  }

  #secured(s: tls.TLSSocket): void {
    const raw = rawSocketOf(s);
    if (!raw) return;
    clearTimeout(this.#timers.get(raw));
    this.#events.secured(raw, s);
  }
}
