import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LogLine } from './children.js';
import type { LatencySummary } from './load/latency.js';
import type { FloodVariant } from './tls-flood.js';

// The handshake flood's result shape and its markdown summary (bench/handshake-flood.ts runs it).

export interface FloodOptions {
  readonly flood: number;
  readonly headersTimeoutMs: number;
  readonly variants: readonly FloodVariant[];
  readonly baselineS: number;
  readonly clients: number;
  readonly gapMs: number;
  readonly out: string;
}

/** Plain requests of one phase. */
export interface PhaseStats {
  readonly requests: number;
  readonly failed: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly all: LatencySummary;
  readonly keepAlive: LatencySummary;
  readonly close: LatencySummary;
}

export interface TlsCheck {
  readonly status: number | null;
  readonly ms: number;
  readonly error?: string;
}

export interface FloodRun {
  readonly variant: FloodVariant;
  readonly baseline: PhaseStats;
  /** Sent while the flood was connecting and the workers taking it (first connect to the workers holding them all, or to the last connect if /status never showed that). */
  readonly storm: PhaseStats;
  /** Sent once the workers held every flood socket, answered before the server closed the first of them. */
  readonly held: PhaseStats;
  /** Sent between the first flood connect and the server's last close. */
  readonly wholeFlood: PhaseStats;
  readonly heldWindowMs: number;
  readonly flood: {
    readonly connected: number;
    /** First connect started to every socket connected (or failed). */
    readonly connectMs: number;
    /** First connect started to /status showing the workers holding them all (polled every 200 ms); null if it never did. */
    readonly takenMs: number | null;
    /** Connected, then closed by the server before the client gave up. */
    readonly closedByServer: number;
    /** Highest sum of the workers' connections in /status (polled every 200 ms): a TLS connection counts from its accept. */
    readonly maxHeldByWorkers: number;
    readonly maxQueued: number;
    /** How each socket ended: `end` (the server closed it), an error code, or still open at the deadline. */
    readonly how: Readonly<Record<string, number>>;
    /** Closed by the server within --headers-timeout + closeSlackMs of their connect. */
    readonly closedInTime: number;
    /** Connect to the server's close, per socket. */
    readonly lifetimeMs: LatencySummary;
    readonly firstToLastCloseMs: number;
    readonly startToLastCloseMs: number;
    /** Bytes the server sent on flood sockets (expected 0: a bare close). */
    readonly bytesReceived: number;
    /** CPU of the whole cluster during the flood beyond the same plain load's without it, divided by the flood's connections (10 ms clock ticks). */
    readonly serverCpuMsPerConnection: number;
    /** The same until the workers held every flood socket (accepts and the start of each handshake). */
    readonly stormCpuMsPerConnection: number;
    /** SYNs dropped machine-wide on a full listen queue during the flood (TcpExt ListenDrops; any process's). */
    readonly listenDrops: number | null;
  };
  readonly tlsAfter: TlsCheck;
}

export interface FloodResult {
  readonly date: string;
  readonly node: string;
  readonly machine: { readonly cpus: number; readonly loadavgBefore: readonly number[]; readonly loadavgAfter: readonly number[] };
  readonly options: FloodOptions;
  readonly closeSlackMs: number;
  readonly runs: readonly FloodRun[];
  readonly serverProblems: readonly LogLine[];
}

const f = (v: number | null, digits = 1): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? '—' : `${(a / b).toFixed(2)}×`);
const VARIANT_NAMES: Record<FloodVariant, string> = { silent: 'connect, send nothing', 'partial-hello': '48 bytes of a 517-byte ClientHello' };

export function renderFlood(r: FloodResult): string {
  const o = r.options;
  const out = [
    `## TLS handshake flood — ${o.flood} connections that never finish the handshake (${r.date})`,
    '',
    `Node ${r.node}, ${r.machine.cpus} CPUs, load average before ${r.machine.loadavgBefore.map((l) => l.toFixed(2)).join(' ')}, after ${r.machine.loadavgAfter.map((l) => l.toFixed(2)).join(' ')}. ` +
      `rocket-cluster, 2 workers, examples/hello.mjs, one plain and one https:// listener (test/fixtures/tls), --headers-timeout ${o.headersTimeoutMs}, --admin. ` +
      `Plain load on the http:// port: ${Math.ceil(o.clients / 2)} keep-alive and ${Math.floor(o.clients / 2)} \`Connection: close\` clients, one request at a time, ${o.gapMs} ms apart; ` +
      `${o.baselineS} s without the flood, then the flood.`,
    '',
    '| flood | plain requests | requests | failed | p50 ms | p99 ms | max ms | p50 vs no flood | p99 vs no flood |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of r.runs) {
    const row = (phase: string, s: PhaseStats) =>
      `| ${run.variant} | ${phase} | ${s.requests} | ${s.failed} | ${f(s.all.p50, 2)} | ${f(s.all.p99, 2)} | ${f(s.all.max, 1)} | ${ratio(s.all.p50, run.baseline.all.p50)} | ${ratio(s.all.p99, run.baseline.all.p99)} |`;
    out.push(row('no flood', run.baseline), row(`while the flood connects and the workers take it (${(((run.flood.takenMs ?? run.flood.connectMs)) / 1000).toFixed(1)} s)`, run.storm), row(`flood held (${(run.heldWindowMs / 1000).toFixed(1)} s)`, run.held), row('first connect to last close', run.wholeFlood));
  }
  out.push('', 'By connection kind, flood held vs no flood (p50 / p99 ms):', '');
  for (const run of r.runs) {
    const kind = (name: string, a: LatencySummary, b: LatencySummary) => `${name} ${f(b.p50, 2)} / ${f(b.p99, 2)} → ${f(a.p50, 2)} / ${f(a.p99, 2)}`;
    out.push(`- ${run.variant}: ${kind('keep-alive', run.held.keepAlive, run.baseline.keepAlive)}; ${kind('new connection each', run.held.close, run.baseline.close)}`);
  }
  out.push('', '| flood | sends | connected | all connected / all held by workers | held by workers (max) | queued (max) | closed by the server | of those within --headers-timeout + ' + `${r.closeSlackMs / 1000} s` + ' | connect → close p50 / max ms | first connect → last close | TLS request after |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const run of r.runs) {
    const fl = run.flood;
    const tls = run.tlsAfter.status === null ? `failed: ${run.tlsAfter.error}` : `${run.tlsAfter.status} in ${f(run.tlsAfter.ms)} ms`;
    out.push(
      `| ${run.variant} | ${VARIANT_NAMES[run.variant]} | ${fl.connected} | ${f(fl.connectMs, 0)} / ${f(fl.takenMs, 0)} ms | ${fl.maxHeldByWorkers} | ${fl.maxQueued} | ${fl.closedByServer} of ${o.flood} | ${fl.closedInTime} | ` +
        `${f(fl.lifetimeMs.p50, 0)} / ${f(fl.lifetimeMs.max, 0)} | ${f(fl.startToLastCloseMs, 0)} ms | ${tls} |`,
    );
  }
  out.push('');
  for (const run of r.runs) {
    const failures = [run.wholeFlood].flatMap((p) => Object.entries(p.failures).map(([k, n]) => `${k} ${n}`));
    out.push(
      `- ${run.variant}: flood sockets ended ${Object.entries(run.flood.how).map(([k, n]) => `${k} ${n}`).join(', ')}; the server sent ${run.flood.bytesReceived} bytes on them; ` +
        `the cluster's CPU beyond the plain load's: ${f(run.flood.serverCpuMsPerConnection, 2)} ms per flood connection (${f(run.flood.serverCpuMsPerConnection * o.flood, 0)} ms in all, ` +
        `${f(run.flood.stormCpuMsPerConnection * o.flood, 0)} ms of it by the time the workers held them all); ` +
        `SYNs dropped on full listen queues meanwhile (machine-wide): ${run.flood.listenDrops ?? '—'}; ` +
        `closes spread over ${f(run.flood.firstToLastCloseMs, 0)} ms${failures.length ? `; plain failures: ${failures.join(', ')}` : ''}.`,
    );
  }
  out.push(
    `- A flood socket's handshake timer starts when a worker takes it, which under a burst is up to a second or two after the client saw it connected. Warn-or-worse log lines from the cluster: ${r.serverProblems.length}.`,
    '',
  );
  return `${out.join('\n')}\n`;
}

export function writeFlood(file: string, r: FloodResult): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}
