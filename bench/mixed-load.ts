import { setMaxListeners } from 'node:events';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

// Light, paced HTTP load for the reliability scripts (soak, handshake flood):
// a few clients, each sending one request at a time and pausing between
// them, some over one keep-alive connection each and some with a new
// connection and `Connection: close` per request. Unlike wrk or autocannon it
// reports every request exactly once, failed or not, with the reason, and its
// rate is set by the pauses, not by what the machine can take: these scripts
// measure what goes wrong, not how fast.

export type RequestKind = 'keep-alive' | 'close';

/** One request as the client saw it. */
export interface RequestSample {
  readonly kind: RequestKind;
  /** performance.now() when the request was sent. */
  readonly at: number;
  /** Send to the end of the body (or to the failure). */
  readonly ms: number;
  /** A 2xx status with the whole body read. */
  readonly ok: boolean;
  /** The response status; null when none arrived. */
  readonly status: number | null;
  /** Why it failed without a status: a socket error code, `timeout`, `closed`. */
  readonly error?: string;
}

export interface ClientSpec {
  readonly kind: RequestKind;
  /** Pause after each response before the next request, ms. */
  readonly gapMs: () => number;
}

export interface MixedLoadSpec {
  readonly url: string;
  readonly clients: readonly ClientSpec[];
  /** A request with no complete response after this long fails as `timeout`. */
  readonly timeoutMs: number;
  readonly onSample: (s: RequestSample) => void;
}

export interface RunningLoad {
  /** Sends no more requests, waits for those in flight (each bounded by the timeout) and closes the keep-alive connections. */
  stop(): Promise<void>;
}

/** Starts every client at once; each runs until stop(). */
export function startMixedLoad(spec: MixedLoadSpec): RunningLoad {
  const stopping = new AbortController();
  // Every client's pause listens on the one signal.
  setMaxListeners(spec.clients.length + 10, stopping.signal);
  const loops = spec.clients.map(async (c) => {
    // One agent with one socket per keep-alive client: its requests share one
    // TCP connection for as long as the server keeps it open.
    const agent = c.kind === 'keep-alive' ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    try {
      while (!stopping.signal.aborted) {
        spec.onSample(await request(spec.url, c.kind, agent, spec.timeoutMs));
        await sleep(c.gapMs(), undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    } finally {
      if (agent) agent.destroy();
    }
  });
  return {
    async stop() {
      stopping.abort();
      await Promise.all(loops);
    },
  };
}

/** One GET, settled exactly once whatever happens to the socket. */
function request(url: string, kind: RequestKind, agent: http.Agent | false, timeoutMs: number): Promise<RequestSample> {
  return new Promise((resolve) => {
    const at = performance.now();
    let settled = false;
    const settle = (status: number | null, ok: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      resolve({ kind, at, ms: performance.now() - at, ok, status, ...(error === undefined ? {} : { error }) });
    };
    const headers = kind === 'close' ? { connection: 'close' } : {};
    const req = http.get(url, { agent, headers, timeout: timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      res.on('data', () => undefined);
      res.on('end', () => settle(status, status >= 200 && status < 300));
      res.on('error', (e: NodeJS.ErrnoException) => settle(status, false, e.code ?? e.message));
      // A body cut short by a closing socket ends with 'close' and no 'end'.
      res.on('close', () => settle(status, false, 'closed mid-body'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => settle(null, false, e.code ?? e.message));
    req.on('close', () => settle(null, false, 'closed before the response ended'));
  });
}

/** Failures by reason: `HTTP 503`, `ECONNRESET`, `timeout`... */
export function failureKey(s: RequestSample): string {
  return s.error ?? `HTTP ${s.status}`;
}
