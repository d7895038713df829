import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ResponseParseError, ResponseReader, type ParsedResponse } from './http-response.js';
import { summarizeLatencies, type LatencySummary } from './latency.js';

/**
 * Browser-like load: each client holds one keep-alive connection and sends
 * one request at a time with think time between them, so most connections are
 * idle most of the time (the workload rocket-cluster's parking exists for).
 * Raw `net` sockets and a minimal response reader instead of http.Agent: one
 * process must drive thousands of sockets at a few thousand requests a second
 * on a 2-core machine it shares with the server.
 */
export interface ThinkSpec {
  readonly host: string;
  readonly port: number;
  readonly clients: number;
  readonly durationS: number;
  readonly fastPath: string;
  readonly slowPath: string;
  /** Share of requests to `slowPath`. */
  readonly slowShare: number;
  readonly thinkMinMs: number;
  readonly thinkMaxMs: number;
}

export interface ThinkLoadResult {
  readonly clients: number;
  readonly durationS: number;
  /** Complete responses, any status. */
  readonly requests: number;
  /** 2xx responses: the requests the server did serve. */
  readonly served: number;
  /** Served per second of the run. */
  readonly rps: number;
  /** Latency of served fast and slow requests, from wanting to send (connect included when the client had to reconnect). */
  readonly fastMs: LatencySummary;
  readonly slowMs: LatencySummary;
  /** Socket errors, connections closed with a request unanswered, unreadable responses. */
  readonly errors: number;
  readonly errorsByKind: Record<string, number>;
  /** Requests unanswered after CLIENT_TIMEOUT_MS; their connection was dropped and reopened. */
  readonly timeouts: number;
  /** Non-2xx responses, 503s included. */
  readonly non2xx: number;
  readonly status503: number;
  /** TCP connections opened: one per client, plus every reconnect. */
  readonly connects: number;
  /** Requests still unanswered when the run ended, counted nowhere else. */
  readonly unfinished: number;
  /** CPU this process (the client) used during the run. */
  readonly clientCpuMs: number;
}

/**
 * A request with no complete response after this long counts as a timeout and
 * its connection is dropped: about where a browser user gives up and reloads.
 * A latency percentile can thus not exceed it; the timeouts are counted apart.
 */
export const CLIENT_TIMEOUT_MS = 5000;
/** The clients connect in batches spread over this long, so that the listen backlog is not what gets measured. */
const RAMP_MS = 1000;
const RAMP_BATCHES = 20;
/** Timeouts are found by one sweep over the clients, not one timer per request; they may be this late. */
const SWEEP_MS = 100;

interface Tally {
  requests: number;
  served: number;
  fast: number[];
  slow: number[];
  errors: number;
  errorsByKind: Record<string, number>;
  timeouts: number;
  non2xx: number;
  status503: number;
  connects: number;
}

export async function runThinkClients(spec: ThinkSpec): Promise<ThinkLoadResult> {
  const t: Tally = { requests: 0, served: 0, fast: [], slow: [], errors: 0, errorsByKind: {}, timeouts: 0, non2xx: 0, status503: 0, connects: 0 };
  const request = (p: string): Buffer => Buffer.from(`GET ${p} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\n\r\n`, 'latin1');
  const shared: Shared = { spec, tally: t, fastRequest: request(spec.fastPath), slowRequest: request(spec.slowPath), running: true };
  const clients = Array.from({ length: spec.clients }, () => new Client(shared));
  const cpuBefore = process.cpuUsage();
  const started = performance.now();

  const perBatch = Math.ceil(spec.clients / RAMP_BATCHES);
  const ramp = Array.from({ length: RAMP_BATCHES }, (_, b) =>
    setTimeout(() => clients.slice(b * perBatch, (b + 1) * perBatch).forEach((c) => c.next()), (b * RAMP_MS) / RAMP_BATCHES),
  );
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of clients) c.checkTimeout(now);
  }, SWEEP_MS);
  await new Promise((resolve) => setTimeout(resolve, spec.durationS * 1000));

  shared.running = false;
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  ramp.forEach(clearTimeout);
  clearInterval(sweep);
  let unfinished = 0;
  for (const c of clients) unfinished += c.stop() ? 1 : 0;
  return {
    clients: spec.clients,
    durationS: elapsedS,
    requests: t.requests,
    served: t.served,
    rps: t.served / elapsedS,
    fastMs: summarizeLatencies(t.fast),
    slowMs: summarizeLatencies(t.slow),
    errors: t.errors,
    errorsByKind: t.errorsByKind,
    timeouts: t.timeouts,
    non2xx: t.non2xx,
    status503: t.status503,
    connects: t.connects,
    unfinished,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

interface Shared {
  readonly spec: ThinkSpec;
  readonly tally: Tally;
  readonly fastRequest: Buffer;
  readonly slowRequest: Buffer;
  running: boolean;
}

/**
 * One user: sends a request, waits for the whole response, thinks, repeats.
 * Opens a connection only when it has a request and none is open (the first
 * time, after the server closed one, after a timeout), and counts the connect
 * in that request's latency, as a user waits for it too.
 */
class Client {
  readonly #s: Shared;
  #socket: net.Socket | null = null;
  #reader = new ResponseReader();
  /** performance.now() when the outstanding request was wanted; 0: none outstanding. */
  #sentAt = 0;
  #slow = false;
  #think: NodeJS.Timeout | null = null;
  /** The code of the socket's last 'error', reported when it closes. */
  #lastError: string | null = null;
  readonly #nextBound = (): void => this.next();

  constructor(shared: Shared) {
    this.#s = shared;
  }

  /** Sends the next request (connecting first if needed). */
  next(): void {
    this.#think = null;
    if (!this.#s.running) return;
    const socket = this.#socket ?? this.#connect();
    this.#slow = Math.random() < this.#s.spec.slowShare;
    this.#sentAt = performance.now();
    // Written before 'connect' is fine: net.Socket queues it until connected.
    socket.write(this.#slow ? this.#s.slowRequest : this.#s.fastRequest);
  }

  checkTimeout(now: number): void {
    if (this.#sentAt === 0 || now - this.#sentAt < CLIENT_TIMEOUT_MS) return;
    this.#s.tally.timeouts++;
    this.#sentAt = 0;
    this.#drop();
    this.#thinkThenNext();
  }

  /** Ends the run for this client; true if a request was still outstanding. */
  stop(): boolean {
    if (this.#think !== null) clearTimeout(this.#think);
    this.#think = null;
    const outstanding = this.#sentAt !== 0;
    this.#sentAt = 0;
    this.#drop();
    return outstanding;
  }

  #connect(): net.Socket {
    const { spec, tally } = this.#s;
    tally.connects++;
    const socket = net.connect({ host: spec.host, port: spec.port, noDelay: true });
    this.#socket = socket;
    this.#reader = new ResponseReader();
    this.#lastError = null;
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.#socket) return;
      try {
        this.#reader.push(chunk, (r) => this.#onResponse(r));
      } catch (e) {
        if (!(e instanceof ResponseParseError)) throw e;
        this.#fail('unreadable response');
      }
    });
    // The server closed an idle connection (its keep-alive timeout): nothing
    // was lost, the next request reconnects. Dropped now, not at 'close', so
    // that a request is not written into a connection already half closed.
    socket.on('end', () => {
      if (socket === this.#socket && this.#sentAt === 0) this.#drop();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (socket === this.#socket) this.#lastError = e.code ?? e.message;
    });
    socket.on('close', () => {
      if (socket !== this.#socket) return; // dropped by us: already accounted for
      const last = this.#reader.end();
      if (last !== null && this.#sentAt !== 0) this.#onResponse(last);
      if (this.#socket !== socket) return; // #onResponse dropped it
      this.#socket = null;
      if (this.#sentAt !== 0) this.#fail(this.#lastError ?? 'closed before the response');
      else if (this.#lastError !== null) this.#count(this.#lastError); // an error while idle: the next request reconnects
    });
    return socket;
  }

  #onResponse(r: ParsedResponse): void {
    if (this.#sentAt === 0) {
      // More answers than requests: a server bug worth seeing, not a latency.
      this.#fail('response without a request');
      return;
    }
    const ms = performance.now() - this.#sentAt;
    this.#sentAt = 0;
    const t = this.#s.tally;
    t.requests++;
    if (r.status >= 200 && r.status < 300) {
      t.served++;
      (this.#slow ? t.slow : t.fast).push(ms);
    } else {
      t.non2xx++;
      if (r.status === 503) t.status503++;
    }
    if (r.close) this.#drop();
    this.#thinkThenNext();
  }

  /** Counts an error, drops the connection, and goes on after a think (a user retrying). */
  #fail(kind: string): void {
    this.#count(kind);
    this.#sentAt = 0;
    this.#drop();
    this.#thinkThenNext();
  }

  #count(kind: string): void {
    const t = this.#s.tally;
    t.errors++;
    t.errorsByKind[kind] = (t.errorsByKind[kind] ?? 0) + 1;
  }

  #drop(): void {
    const socket = this.#socket;
    this.#socket = null;
    socket?.destroy();
  }

  #thinkThenNext(): void {
    if (!this.#s.running || this.#think !== null) return;
    const { thinkMinMs, thinkMaxMs } = this.#s.spec;
    this.#think = setTimeout(this.#nextBound, thinkMinMs + Math.random() * (thinkMaxMs - thinkMinMs));
  }
}
