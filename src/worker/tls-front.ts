import type http from 'node:http';
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

  constructor(handshakeMs: number, events: TlsFrontEvents) {
    this.#handshakeMs = handshakeMs;
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
        ALPNProtocols: ['http/1.1'],
        // With a CA, a client certificate is asked for and its verdict left to the app (req.socket.authorized).
        ...(m.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: false }),
      });
      front.on('secureConnection', (s: tls.TLSSocket) => {
        this.#secured(s);
        this.#http?.emit('connection', s);
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

  #secured(s: tls.TLSSocket): void {
    const raw = rawSocketOf(s);
    if (!raw) return;
    clearTimeout(this.#timers.get(raw));
    this.#events.secured(raw, s);
  }
}
