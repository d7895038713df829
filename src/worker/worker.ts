import http from 'node:http';
import { Channel } from '../shared/channel.js';
import type { ClusterConfig } from '../shared/config.js';
import { DEFAULTS, HEARTBEAT_MS } from '../shared/defaults.js';
import { closeHandle, socketFromHandle, type NativeHandle } from '../shared/node-internals/handles.js';
import { flushLogs, followLogFile, lineTarget, logWriteFailures, type ChildLog } from '../shared/child-log.js';
import { listenWithoutBinding, setLateLimits, socketsBetweenMessages } from '../shared/node-internals/http-server.js';
import type { ClaimableServer } from '../shared/node-internals/listen-intercept.js';
import { probeInternals } from '../shared/node-internals/probe.js';
import type { ListenSocket } from '../shared/node-internals/shared-listener.js';
import { assertNever, type MasterToWorker, type MetricsJson, type ParkingState, type SurplusReason, type WorkerLoad, type WorkerToMaster } from '../shared/protocol.js';
import { accessLine } from './access-log.js';
import { gateRequests } from './request-gate.js';
import { requestHook } from './request-hook.js';
import { StaticFiles } from './static-files.js';
import { serveStaticFirst } from './static-hook.js';
import { Acceptor } from './acceptor.js';
import { Connections } from './connections.js';
import { TlsFront } from './tls-front.js';
import { workerDescriptors } from './descriptors.js';
import { exitIfOrphaned } from './orphan.js';
import type { WorkerMetrics } from './metrics.js';
import type { ExitSignal, ShutdownHooks } from './shutdown-hooks.js';

const REPORT_MS = 20;
const NEAR_CAP = 0.9;

/**
 * The worker process at run time: one http.Server that never binds, fed the
 * connections the master sends, returning idle ones to the master to park.
 */
export class WorkerRuntime {
  readonly #config: ClusterConfig;
  readonly #log: ChildLog;
  readonly #channel: Channel<MasterToWorker, WorkerToMaster>;
  readonly #connections: Connections;
  /** Only with an admin listener: nobody could read them otherwise. */
  #metrics: WorkerMetrics | null = null;
  /** prom-client is loaded only with an admin listener (nobody could read the metrics otherwise). */
  readonly #metricsLoaded: Promise<void>;
  #server: http.Server | null = null;
  /** Resolves once the server has emitted 'listening' (after the app's own listen callback). */
  #listening: Promise<void> = Promise.resolve();
  /** Off when a Node internal that parking needs is missing (probed when ready). */
  #parking: ParkingState = { enabled: true };
  #loadScheduled = false;
  #reportTimer: NodeJS.Timeout | null = null;
  #lastReported: WorkerLoad = { active: 0, served: 0, received: 0, accepted: 0, elu: 0, rss: 0, logDropped: 0 };
  readonly #acceptor: Acceptor;
  readonly #tls: TlsFront;
  /** `--static` directories, or null. */
  readonly staticFiles: StaticFiles | null;
  /** TLS handshakes that failed (plain HTTP on a TLS port, a timeout, a client refusing the certificate). */
  #tlsFailures = 0;
  #rss = 0;
  #rssAt = -Infinity;
  #lastElu = performance.eventLoopUtilization();
  /** Leaving: retiring or shutting down; exits once no connection is left. */
  #draining = false;
  /** Shutting down: connections are closed, not parked (also upgrades a retirement). */
  #closing = false;
  #exiting = false;
  readonly #hooks: ShutdownHooks;
  /** When the app's shutdown hook must be done by (ms since epoch): set by the first order to leave. */
  #leaveBy = Infinity;
  /** The signal that made it leave, if one did: the app's listeners for it run. */
  #signal: ExitSignal | null = null;

  constructor(id: number, config: ClusterConfig, log: ChildLog, hooks: ShutdownHooks) {
    this.#config = config;
    this.#log = log;
    this.#hooks = hooks;
    this.staticFiles = config.static.length > 0 ? new StaticFiles(config) : null;
    this.#channel = new Channel<MasterToWorker, WorkerToMaster>(process, (m, handle) => this.#receive(m, handle), {
      ackTimeout: DEFAULTS.ackTimeout,
      // A park the master did not take: the connection is closed, as a keep-alive timeout would close it.
      reclaim: (_m, handle) => closeHandle(handle),
    });
    this.#metricsLoaded = config.admin ? import('./metrics.js').then((m) => void (this.#metrics = new m.WorkerMetrics())) : Promise.resolve();
    this.#acceptor = new Acceptor(id, {
      active: () => this.#connections.active,
      accepted: (connId, client, listener) => {
        // Without a server (cannot happen once accepting: 'listen' is refused before one exists) the fd must not leak.
        if (!this.#serve(connId, client, undefined, false, listener)) closeHandle(client);
        this.#reportLoad('connections');
      },
      surplus: (connId, client, listener) => this.#handOver(connId, client, 'limit', listener),
      // Counted and logged at most once per interval by the descriptor watch, never once per failed accept.
      failed: (errno) => workerDescriptors(this.#log).acceptFailed(errno),
    });
    this.#tls = new TlsFront({ handshakeMs: config.headersTimeout, http2: config.http2, idleMs: config.keepAliveTimeout }, {
      secured: (raw, secured) => this.#connections.rebind(raw, secured),
      failed: (error) => {
        // Scanners and plain HTTP on a TLS port do this all day: counted, logged at debug only.
        this.#tlsFailures++;
        this.#log.debug({ err: error.message, failures: this.#tlsFailures }, 'TLS handshake failed');
      },
    });
    // --park-when pressure: idle connections park only near the cap, where the master would stop sending new ones.
    const parkAt = config.parkWhen === 'idle' ? 0 : Math.ceil(config.workerConnections * NEAR_CAP);
    this.#connections = new Connections(config.parkAfter, parkAt, {
      betweenMessages: () => (this.#server ? socketsBetweenMessages(this.#server) : null),
      park: (id, handle) => this.#park(id, handle),
      shed: (id, handle) => this.#handOver(id, handle, 'rebalance'),
      change: (what) => this.#reportLoad(what),
    });
  }

  /**
   * Takes the app's http.Server: applies the cluster's limits, hooks request
   * tracking in front of the app's handlers, and "listens" without binding.
   */
  attach(claimed: ClaimableServer, callback?: () => void): void {
    // An https or http2 secure server has node:http's fields (node:https builds its server from node:http's parts);
    // on a bare tls.Server (an app speaking its own protocol over TLS) they are inert.
    const server = claimed as http.Server;
    const c = this.#config;
    server.headersTimeout = c.headersTimeout;
    server.requestTimeout = c.requestTimeout;
    setLateLimits(server, { maxHeaderSize: c.maxHeaderSize, connectionsCheckingInterval: c.timeoutCheckInterval });
    // Node closes a connection idle this long, as it would without us: one that parks leaves before, and the
    // monitor keeps it for what is left of this time.
    server.keepAliveTimeout = c.keepAliveTimeout;
    const hook = requestHook({
      connections: this.#connections,
      metrics: () => this.#metrics,
      access: c.accessLog && this.#log.isLevelEnabled('info') ? accessLine(lineTarget()) : null,
    });
    server.prependListener('request', hook);
    // Files before the app: the hook still runs first for them, so they are tracked (and park) like any request.
    if (this.staticFiles !== null) serveStaticFirst(server, hook, this.staticFiles, this.#log, c.app === undefined);
    // Outermost: a request that breaks HTTP/1.1's framing or Host rules reaches neither the hook nor the app.
    gateRequests(server);
    if (callback) server.once('listening', callback);
    this.#listening = new Promise((resolve) => server.once('listening', () => resolve()));
    const first = c.listen[0];
    const shown = first?.kind === 'tcp' ? first : { host: '127.0.0.1', port: 0 };
    listenWithoutBinding(server, shown, () => {});
    this.#tls.serveWith(claimed);
    this.#server = server;
  }

  /**
   * Checks the Node internals parking relies on, once the app is loaded and its
   * server listening (so a Node version or an app that broke one is seen
   * either way), then tells the master this worker can take connections.
   */
  async ready(): Promise<void> {
    await this.#metricsLoaded;
    await this.#listening;
    if (this.#tls.appTerminates) {
      // Every connection is TLS, and a TLS connection never moves: nothing to park, no internal to check.
      this.#parking = { enabled: false, reason: 'the app terminates TLS itself: connections stay in their worker' };
      this.#connections.stopParking();
    } else {
      const probe = this.#server ? probeInternals(this.#server) : { ok: true as const };
      if (!probe.ok) this.#stopParking(probe.missing, probe.reason);
    }
    setInterval(() => this.#postLoad(), HEARTBEAT_MS).unref();
    this.#channel.post({ t: 'ready', parking: this.#parking, ...this.#load() });
  }

  /**
   * Safe mode for a Node this code does not know: no connection is ever
   * detached, Node's own keep-alive timeout applies (as with --park-after 0),
   * and leaving (retirement too) closes connections once quiet instead of
   * handing them back, so that a retiring worker still exits on its own.
   */
  #stopParking(missing: string, reason: string): void {
    this.#parking = { enabled: false, reason: `Node internal ${missing}: ${reason}` };
    this.#connections.stopParking();
    this.#log.error(
      { internal: missing, reason, node: process.version },
      `Node internal ${missing} is missing or changed (${reason}): parking is off in this worker, idle connections stay until Node's keep-alive timeout, retirement closes them`,
    );
    flushLogs(); // now, not with the next batch: the operator should see why before any connection arrives
  }

  fatal(code: string, message: string): void {
    this.#channel.post({ t: 'fatal', code, message });
  }

  /**
   * Finish in-flight requests with `Connection: close`, close idle connections,
   * run the app's shutdown hook, then exit; `withinMs` (from the master) or
   * --drain-timeout, whichever is less, bounds all that.
   */
  drain(reason: string, withinMs?: number, signal?: ExitSignal): void {
    this.#leaving(withinMs);
    this.#signal ??= signal ?? null;
    if (this.#draining && this.#closing) return;
    this.#draining = true;
    this.#closing = true;
    this.#acceptor.stop();
    this.#log.info({ reason, connections: this.#connections.active }, 'draining');
    this.#connections.drain();
    this.#tls.goAway();
    this.#server?.close();
    this.#exitIfDrained();
  }

  /** Hands every connection back as it becomes idle (none is closed), runs the app's shutdown hook, then exits. */
  #retire(withinMs: number): void {
    this.#leaving(withinMs);
    if (this.#draining) return;
    this.#draining = true;
    this.#acceptor.stop();
    this.#log.info({ connections: this.#connections.active }, 'retiring');
    this.#connections.retire();
    this.#tls.goAway();
    this.#exitIfDrained();
  }

  #receive(m: MasterToWorker, handle: NativeHandle | undefined): boolean {
    switch (m.t) {
      case 'conn':
        return this.#serve(m.id, handle, m.head, true, m.listener);
      case 'tls':
        this.#tls.configure(m.listeners);
        return true;
      case 'listen':
        return handle !== undefined && this.#server !== null && this.#acceptor.add(m.index, handle as ListenSocket, m.limit);
      case 'limit':
        this.#acceptor.setLimit(m.limit);
        return true;
      case 'lend': {
        const socket = this.#acceptor.socket(m.index);
        if (socket) void this.#channel.shareHandle({ t: 'lent', index: m.index }, socket);
        return true;
      }
      case 'shutdown':
        this.drain('shutdown', m.withinMs);
        return true;
      case 'retire':
        this.#retire(m.withinMs);
        return true;
      case 'scrape':
        void this.#answerScrape(m.id);
        return true;
      case 'log-file':
        followLogFile(m.file, this.#log);
        return true;
      case 'shed':
        this.#connections.shed(m.count, m.withinMs);
        return true;
      case 'ack':
        return true;
      default:
        return assertNever(m);
    }
  }

  /** Always answers, so the master's scrape need not wait for its timeout. */
  async #answerScrape(id: number): Promise<void> {
    let metrics: MetricsJson = [];
    try {
      metrics = (await this.#metrics?.snapshot()) ?? [];
    } catch (error) {
      this.#log.warn({ err: error }, 'collecting metrics failed');
    }
    this.#channel.post({ t: 'metrics', id, metrics });
  }

  /** `fromMaster`: sent by the master (it counts those), or accepted here. */
  #serve(id: number, handle: NativeHandle | undefined, head: string | undefined, fromMaster: boolean, listener: number | undefined): boolean {
    const server = this.#server;
    if (!handle || !server) return false;
    const socket = socketFromHandle(handle);
    if (this.#tls.secures(listener)) {
      // Counted from now, handshake included; pinned: its TLS state cannot leave this process.
      this.#connections.adopt(socket, id, 0, fromMaster, true);
      this.#tls.take(socket, listener);
      return true;
    }
    // Bytes the monitor read come first; the socket's own data cannot arrive before the next poll phase.
    const replay = head === undefined ? null : Buffer.from(head, 'base64');
    if (replay) socket.unshift(replay);
    server.emit('connection', socket);
    this.#connections.adopt(socket, id, replay?.length ?? 0, fromMaster);
    return true;
  }

  /** A connection for the master's queue, with nothing of a next request read; refused or unanswered, it is closed. */
  #handOver(id: number, handle: NativeHandle, why: SurplusReason, listener?: number): void {
    const { active, received } = this.#connections;
    void this.#channel.sendHandle({ t: 'surplus', id, active, received, why, ...(listener === undefined ? {} : { listener }) }, handle);
  }

  #park(id: number, handle: NativeHandle): void {
    void this.#channel.sendHandle({ t: 'park', id }, handle).then(() => {
      if (this.#draining) this.#exitIfDrained();
    });
  }

  /**
   * The master counts connections it sends, so only departures need reporting,
   * and not at once: a stale count only makes this worker look busier to the
   * least-loaded choice. They are batched over REPORT_MS, except when this
   * worker was last reported near its cap, where the master may be holding
   * connections back for want of room here. Requests served only ride on the
   * heartbeat: nothing is scheduled by them, and under keep-alive load a report
   * every 20 ms cost a worker about 3% of its time in IPC writes.
   */
  #reportLoad(what: 'connections' | 'served'): void {
    if (this.#draining) this.#exitIfDrained();
    if (what === 'served') return;
    const nearCap = what === 'connections' && this.#lastReported.active >= this.#config.workerConnections * NEAR_CAP;
    if (nearCap) {
      if (!this.#loadScheduled) {
        this.#loadScheduled = true;
        setImmediate(() => this.#postLoad());
      }
      return;
    }
    this.#reportTimer ??= setTimeout(() => this.#postLoad(), REPORT_MS);
  }

  #postLoad(): void {
    this.#loadScheduled = false;
    if (this.#reportTimer) clearTimeout(this.#reportTimer);
    this.#reportTimer = null;
    this.#lastReported = this.#load();
    this.#channel.post({ t: 'load', ...this.#lastReported });
  }

  #load(): WorkerLoad {
    const c = this.#connections;
    const elu = performance.eventLoopUtilization(this.#lastElu);
    this.#lastElu = performance.eventLoopUtilization();
    // RSS and descriptors cost reads of /proc each time: under `Connection: close` load, reports go out every 20 ms.
    const now = Date.now();
    const fds = workerDescriptors(this.#log);
    if (now - this.#rssAt >= HEARTBEAT_MS) {
      this.#rssAt = now;
      exitIfOrphaned(now, this.#config.shutdownTimeout, this.#log);
      fds.sample(now);
      try {
        this.#rss = process.memoryUsage.rss();
      } catch {
        // EMFILE: reading RSS opens /proc/self/stat, and out of descriptors it throws. The last value stands; the watch counts it.
      }
    }
    const logs = logWriteFailures();
    const d = fds.state;
    return {
      ...{ active: c.active, served: c.served, received: c.received, accepted: this.#acceptor.accepted },
      ...{ elu: Math.round(elu.utilization * 1000) / 1000, rss: this.#rss, logDropped: logs.dropped },
      ...(logs.error === undefined ? {} : { logError: logs.error }),
      ...{ fdExhausted: d.exhausted, fdOut: d.now, ...(d.open === null ? {} : { fdOpen: d.open }), ...(d.limit === null ? {} : { fdLimit: d.limit }) },
    };
  }

  #exitIfDrained(): void {
    // Parked connections leave the count at once but their handles go out one
    // at a time: exiting before the last is acknowledged would drop it.
    if (this.#connections.active > 0 || this.#channel.pendingHandles > 0) return;
    if (this.#exiting) return;
    this.#exiting = true;
    // Requests first, then the app's hook: it may close what they were using (a database pool).
    void this.#hooks.run(this.#signal, Math.max(0, this.#leaveBy - Date.now())).then(() => {
      this.#log.info({ served: this.#connections.served }, 'worker exiting');
      // Let the last load report and log lines out before the process goes.
      setImmediate(() => process.exit(0));
    });
  }

  /** The deadline of an order to leave: the earliest of those given, none later than --drain-timeout from the first. */
  #leaving(withinMs: number | undefined): void {
    const by = Date.now() + Math.min(this.#config.drainTimeout, withinMs ?? Infinity);
    if (this.#leaveBy === Infinity) this.#leaveBy = by;
    else if (withinMs !== undefined) this.#leaveBy = Math.min(this.#leaveBy, by);
  }
}
