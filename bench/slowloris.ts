// Slowloris against rocket-cluster: what normal clients see while SLOW
// connections each drip a request head one byte a second and never finish
// it, and how soon each slow one is answered 408 and closed. Not a test (the
// behaviour is asserted by test/integration/slowloris.test.ts); the figures
// go to docs/RELIABILITY.md. Usage:
//   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/slowloris.js [seconds] [slow] [headers-timeout-ms] [timeout-check-interval-ms]
//
// Two phases on one cluster (2 workers, hello world, --headers-timeout 2000
// unless told): normal clients alone, then the same normal clients while the
// flood holds SLOW connections open all along (each slow one closed by the
// server is replaced at once, so the server always faces SLOW of them).
// Normal clients: 5 that open a new connection per request and 5 keep-alive
// ones, each sending a request every 20 ms (about 450 requests/s in all).
// The flood runs in a process of its own, as an attacker would: its bursts
// of closes and reconnects must not delay the normal clients' own event loop.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopAll } from './children.js';
import { cpuMs } from './procfs.js';
import { print, progress } from './report.js';
import { startRocket } from './servers.js';
import { percentile } from './stats.js';

const FLOOD_CHILD = '--flood-child';
const [secondsArg = '10', slowArg = '500', headersArg = '2000', checkArg] = process.argv.slice(2);
const SECONDS = Number(secondsArg);
const SLOW = Number(slowArg);
const HEADERS_TIMEOUT = Number(headersArg);
/** --timeout-check-interval: how often Node looks for connections past the headers timeout (the CLI's default when not given). */
const CHECK_ARGS = checkArg === undefined ? [] : ['--timeout-check-interval', checkArg];
const DRIP_MS = 1000;
const NORMAL_CLIENTS = 5;
const NORMAL_GAP_MS = 20;
const HEAD = `GET /slowloris HTTP/1.1\r\nHost: t\r\nX-Drip: ${'a'.repeat(500)}`;

interface Sample {
  readonly ok: boolean;
  readonly ms: number;
}

/** `clients` sending GET / every NORMAL_GAP_MS until `until` (performance.now()). */
async function normalClients(port: number, keepAlive: boolean, until: number): Promise<Sample[]> {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: NORMAL_CLIENTS }) : false;
  const samples: Sample[] = [];
  const one = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      http
        .get({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => (samples.push({ ok: res.statusCode === 200, ms: performance.now() - start }), resolve()));
        })
        .on('error', () => (samples.push({ ok: false, ms: performance.now() - start }), resolve()));
    });
  await Promise.all(
    Array.from({ length: NORMAL_CLIENTS }, async () => {
      while (performance.now() < until) {
        await one();
        await sleep(NORMAL_GAP_MS);
      }
    }),
  );
  if (agent) agent.destroy();
  return samples;
}

interface SlowOutcome {
  /** First byte on the wire to the server's close, ms. */
  readonly closeMs: number;
  readonly answer: string;
}

interface FloodResult {
  readonly closed: SlowOutcome[];
  readonly stillOpen: number;
  readonly connectErrors: number;
}

/** Keeps `count` slow connections open until `until`; returns how each one the server closed ended. */
async function flood(port: number, count: number, until: number): Promise<FloodResult> {
  const closed: SlowOutcome[] = [];
  const open = new Set<net.Socket>();
  let connectErrors = 0;
  let replacing = true;
  const startOne = (): void => {
    const socket = net.connect(port, '127.0.0.1');
    let firstByteAt = 0;
    let sent = 0;
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    socket.setNoDelay(true).setEncoding('latin1');
    socket.on('data', (d: string) => (received += d));
    socket.on('error', () => {
      if (firstByteAt === 0) connectErrors++;
    });
    socket.once('connect', () => {
      open.add(socket);
      firstByteAt = performance.now();
      const drip = () => {
        if (socket.destroyed || sent >= HEAD.length) return;
        socket.write(HEAD[sent++]!);
        timer = setTimeout(drip, DRIP_MS);
      };
      drip();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      const wasOpen = open.delete(socket);
      if (wasOpen && replacing) closed.push({ closeMs: performance.now() - firstByteAt, answer: received.split('\r\n')[0] ?? '' });
      if (wasOpen && replacing) startOne();
    });
  };
  for (let i = 0; i < count; i++) startOne();
  while (performance.now() < until) await sleep(100);
  replacing = false;
  const stillOpen = open.size;
  for (const socket of open) socket.destroy();
  return { closed, stillOpen, connectErrors };
}

/** `from-to ms: count` for each non-empty bucket of `width` ms. */
function histogram(values: readonly number[], width: number): string {
  const buckets = new Map<number, number>();
  for (const v of values) buckets.set(Math.floor(v / width), (buckets.get(Math.floor(v / width)) ?? 0) + 1);
  return [...buckets].sort(([a], [b]) => a - b).map(([b, n]) => `${b * width}-${(b + 1) * width}: ${n}`).join(', ');
}

/** SYNs dropped machine-wide because a listen queue was full (TcpExt ListenDrops); null where /proc/net/netstat is missing. */
function listenDrops(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const [names, values] = lines.map((l) => l.split(/\s+/));
    const at = names?.indexOf('ListenDrops') ?? -1;
    return at < 0 ? null : Number(values?.[at]);
  } catch {
    return null;
  }
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');

function latencyLine(name: string, samples: readonly Sample[]): string {
  const ms = samples.map((s) => s.ms);
  const failed = samples.filter((s) => !s.ok).length;
  return `| ${name} | ${samples.length} | ${failed} | ${fmt(percentile(ms, 50))} | ${fmt(percentile(ms, 99))} | ${fmt(Math.max(...ms))} |`;
}

/** The flood in a child process (this file, run with FLOOD_CHILD): resolves with its result when it is done. */
async function floodProcess(port: number, count: number, ms: number): Promise<FloodResult> {
  const child = fork(new URL(import.meta.url), [FLOOD_CHILD, String(port), String(count), String(ms)], { stdio: 'inherit' });
  try {
    const [result] = (await once(child, 'message')) as [FloodResult];
    return result;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** CPU time (ms) of every process of the cluster so far. */
function clusterCpuMs(tree: () => number[]): number {
  return tree().reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}

interface Phase {
  readonly fresh: Sample[];
  readonly keepAlive: Sample[];
  readonly slow?: FloodResult;
  readonly listenDrops: number | null;
  /** The cluster's CPU (all its processes) over the phase, as a share of one core. */
  readonly serverCores: number;
}

async function phase(port: number, withFlood: boolean, tree: () => number[]): Promise<Phase> {
  const dropsBefore = listenDrops();
  const cpuBefore = clusterCpuMs(tree);
  const startedAt = performance.now();
  const slow = withFlood ? floodProcess(port, SLOW, SECONDS * 1000 + 500) : undefined;
  // Let the flood's connections arrive before the clients whose latency counts start.
  if (withFlood) await sleep(500);
  const until = performance.now() + SECONDS * 1000;
  const [fresh, keepAlive] = await Promise.all([normalClients(port, false, until), normalClients(port, true, until)]);
  const result = { fresh, keepAlive, ...(slow ? { slow: await slow } : {}) };
  const dropsAfter = listenDrops();
  const serverCores = (clusterCpuMs(tree) - cpuBefore) / (performance.now() - startedAt);
  return { ...result, serverCores, listenDrops: dropsBefore === null || dropsAfter === null ? null : dropsAfter - dropsBefore };
}

if (process.argv[2] === FLOOD_CHILD) {
  const [port, count, ms] = process.argv.slice(3).map(Number);
  process.send!(await flood(port!, count!, performance.now() + ms!));
  process.disconnect();
} else {
  await main();
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  try {
    const server = await startRocket({ extraArgs: ['--headers-timeout', String(HEADERS_TIMEOUT), ...CHECK_ARGS] });
    const port = Number(new URL(server.url).port);
    progress(`slowloris: ${server.name} on ${port}, --headers-timeout ${HEADERS_TIMEOUT}; normal clients alone for ${SECONDS} s`);
    const tree = () => server.process.tree();
    const alone = await phase(port, false, tree);
    progress(`slowloris: now with ${SLOW} slow connections for ${SECONDS} s`);
    const attacked = await phase(port, true, tree);
    const slow = attacked.slow!;
    const closeMs = slow.closed.map((c) => c.closeMs);
    const answered408 = slow.closed.filter((c) => c.answer.startsWith('HTTP/1.1 408')).length;
    const within = slow.closed.filter((c) => c.closeMs <= HEADERS_TIMEOUT + 1000).length;
    const others = [...new Set(slow.closed.filter((c) => !c.answer.startsWith('HTTP/1.1 408')).map((c) => JSON.stringify(c.answer)))];
    print(
      [
        `Node ${process.version}; ${SLOW} slow connections held open for ${SECONDS} s (each replaced when closed), --headers-timeout ${HEADERS_TIMEOUT}` +
          `${checkArg === undefined ? '' : `, --timeout-check-interval ${checkArg}`}, 2 workers; load average before: ${loadBefore}.`,
        '',
        '| normal clients | requests | failed | p50 ms | p99 ms | max ms |',
        '|---|---|---|---|---|---|',
        latencyLine('new connection each, alone', alone.fresh),
        latencyLine('new connection each, during the flood', attacked.fresh),
        latencyLine('keep-alive, alone', alone.keepAlive),
        latencyLine('keep-alive, during the flood', attacked.keepAlive),
        '',
        `Slow connections closed by the server: ${slow.closed.length} (${answered408} with 408${others.length ? `; others: ${others.join(', ')}` : ''}), ` +
          `${within} within headers-timeout + 1 s; first byte to close: min ${fmt(Math.min(...closeMs))} ms, p50 ${fmt(percentile(closeMs, 50))}, ` +
          `p99 ${fmt(percentile(closeMs, 99))}, max ${fmt(Math.max(...closeMs))}; still open at the end ${slow.stillOpen}, connect errors ${slow.connectErrors}.`,
        `First byte to close, by 250 ms: ${histogram(closeMs, 250)}.`,
        `SYNs dropped on full listen queues, machine-wide (other jobs included): ${alone.listenDrops ?? '—'} alone, ${attacked.listenDrops ?? '—'} during the flood; ` +
        `load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
        `The cluster's CPU (master, monitor, workers), in cores: ${alone.serverCores.toFixed(2)} alone, ${attacked.serverCores.toFixed(2)} during the flood.`,
        '',
      ].join('\n'),
    );
  } finally {
    await stopAll();
  }
}
