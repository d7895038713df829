// TLS handshake flood (issue 11): FLOOD connections to the cluster's https://
// port that never finish their handshake (silent, or a ClientHello cut short)
// must not stop plain traffic on its http:// port, and the server must close
// every one of them after --headers-timeout. Measures plain-request latency
// without and with the flood, and when the server closed each flood socket.
// Not a test (test/integration/tls.test.ts asserts the behaviour), not part of
// `npm run bench`. Run `node dist-bench/bench/handshake-flood.js --help`.
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { getStatus } from './admin-client.js';
import { stopAll } from './children.js';
import { renderFlood, writeFlood, type FloodOptions, type FloodResult, type FloodRun, type PhaseStats, type TlsCheck } from './handshake-flood-report.js';
import { summarizeLatencies } from './load/latency.js';
import { failureKey, startMixedLoad, type RequestSample } from './mixed-load.js';
import { print, progress } from './report.js';
import { ROOT, startRocket } from './servers.js';
import { listenDrops } from './netstat.js';
import { FLOOD_VARIANTS, floodInChild, type FloodSocket, type FloodVariant } from './tls-flood.js';
import { treeCpuMs } from './tree-cpu.js';

const HELP = `node dist-bench/bench/handshake-flood.js [options]   (build first: npm run build && npx tsc -p bench/tsconfig.json)
  --flood N             connections to the TLS port that never finish the handshake [1000]
  --headers-timeout MS  the cluster's --headers-timeout, which bounds a handshake too (its default: 20000) [5000]
  --variants LIST       silent (send nothing), partial-hello (48 bytes of a ClientHello); comma-separated [silent,partial-hello]
  --baseline-s N        seconds of plain load without the flood, before each flood [5]
  --clients N           plain clients, half keep-alive, half Connection: close, one request at a time each [4]
  --gap-ms N            pause of each plain client between requests [20]
  --out FILE            JSON results [.bench/handshake-flood.json]
  -h, --help`;

const TLS_DIR = path.join(ROOT, 'test/fixtures/tls');
const REQUEST_TIMEOUT_MS = 10_000;
/** How long 1000 connects may take before the flood is measured as it is. */
const CONNECT_TIMEOUT_MS = 20_000;
/** After the last connect, how long past --headers-timeout the server may take to close the flood before the client gives up. */
const CLOSE_GRACE_MS = 15_000;
/** Reported, not judged: flood sockets closed within --headers-timeout plus this of their connect (the timer starts when a worker takes the socket, which a burst delays). */
const CLOSE_SLACK_MS = 2000;

function parse(argv: readonly string[]): FloodOptions | null {
  const { values: v } = parseArgs({
    args: [...argv],
    options: {
      flood: { type: 'string', default: '1000' },
      'headers-timeout': { type: 'string', default: '5000' },
      variants: { type: 'string', default: FLOOD_VARIANTS.join(',') },
      'baseline-s': { type: 'string', default: '5' },
      clients: { type: 'string', default: '4' },
      'gap-ms': { type: 'string', default: '20' },
      out: { type: 'string', default: '.bench/handshake-flood.json' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (v.help === true) return null;
  const num = (name: keyof typeof v, min: number): number => {
    const n = Number(v[name]);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(v[name])}`);
    return n;
  };
  const variants = v.variants!.split(',').map((s) => s.trim()).filter(Boolean);
  for (const x of variants) if (!(FLOOD_VARIANTS as readonly string[]).includes(x)) throw new Error(`--variants: unknown ${JSON.stringify(x)} (known: ${FLOOD_VARIANTS.join(', ')})`);
  return {
    flood: Math.round(num('flood', 1)),
    headersTimeoutMs: Math.round(num('headers-timeout', 1)),
    variants: variants as FloodVariant[],
    baselineS: num('baseline-s', 1),
    clients: Math.round(num('clients', 2)),
    gapMs: num('gap-ms', 0),
    out: path.resolve(ROOT, v.out!),
  };
}

function phaseStats(samples: readonly RequestSample[]): PhaseStats {
  const failures: Record<string, number> = {};
  for (const s of samples) if (!s.ok) failures[failureKey(s)] = (failures[failureKey(s)] ?? 0) + 1;
  const ms = (kind?: RequestSample['kind']) => summarizeLatencies(samples.filter((s) => kind === undefined || s.kind === kind).map((s) => s.ms));
  return { requests: samples.length, failed: samples.filter((s) => !s.ok).length, failures, all: ms(), keepAlive: ms('keep-alive'), close: ms('close') };
}

/** One GET over a fresh TLS connection that trusts the test certificate: the TLS port serves again. */
async function tlsCheck(port: number): Promise<TlsCheck> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: readFileSync(path.join(TLS_DIR, 'cert.pem')), agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - start }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: null, ms: performance.now() - start, error: e.message }));
  });
}

async function runVariant(o: FloodOptions, variant: FloodVariant, plainUrl: string, tlsPort: number, adminUrl: string, masterPid: number): Promise<FloodRun> {
  const clients = Array.from({ length: o.clients }, (_, i) => ({ kind: i % 2 === 0 ? ('keep-alive' as const) : ('close' as const), gapMs: () => o.gapMs }));
  const baselineSamples: RequestSample[] = [];
  const cpu = (): { ms: number; at: number } => ({ ms: treeCpuMs(masterPid), at: performance.now() });
  const base0 = cpu();
  let load = startMixedLoad({ url: plainUrl, clients, timeoutMs: REQUEST_TIMEOUT_MS, onSample: (s) => baselineSamples.push(s) });
  await sleep(o.baselineS * 1000);
  await load.stop();
  const base1 = cpu();

  const samples: RequestSample[] = [];
  const flood0 = cpu();
  load = startMixedLoad({ url: plainUrl, clients, timeoutMs: REQUEST_TIMEOUT_MS, onSample: (s) => samples.push(s) });
  await sleep(500);
  const drops0 = listenDrops();
  const flood = floodInChild(tlsPort, o.flood, variant, CONNECT_TIMEOUT_MS, o.headersTimeoutMs + CLOSE_GRACE_MS);
  // Track what the server holds: connections in workers (a TLS one counts from its accept, handshake included) and the queue.
  let held = 0;
  /** When the workers first held the whole flood (their handshakes begun), as /status showed it. */
  let heldAt: number | null = null;
  /** The cluster's CPU then (or when the client saw every socket connected, if /status never showed them all held). */
  let stormCpu = flood0;
  let queued = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const st = await getStatus(adminUrl).catch(() => null);
      if (st) {
        const now = st.workers.reduce((sum, w) => sum + w.connections, 0);
        held = Math.max(held, now);
        if (heldAt === null && now >= o.flood) {
          heldAt = performance.now();
          stormCpu = cpu();
        }
        queued = Math.max(queued, st.queue.depth);
      }
      await sleep(200);
    }
  })();
  let sockets: readonly FloodSocket[];
  let started: { startedAt: number; at: number; open: number };
  try {
    [started, sockets] = await Promise.all([
      flood.connected.then((c) => {
        if (heldAt === null) stormCpu = cpu();
        progress(`handshake-flood ${variant}: ${c.open} open ${(c.at - c.startedAt).toFixed(0)} ms after the first connect; waiting for the server to close them`);
        return c;
      }),
      flood.closed,
    ]);
  } catch (e) {
    await load.stop();
    throw e;
  } finally {
    polling = false;
    await poller;
  }
  const { startedAt, at: connectedAt } = started;
  // The server takes the connections after the client sees them connected (the kernel completes TCP handshakes alone).
  const takenAt = Math.max(connectedAt, heldAt ?? connectedAt);
  const drops1 = listenDrops();
  await sleep(500);
  await load.stop();
  const flood1 = cpu();
  // The server's CPU beyond what the same plain load cost without the flood, per flood connection.
  const baseRate = (base1.ms - base0.ms) / (base1.at - base0.at);
  const extraCpuMs = flood1.ms - flood0.ms - baseRate * (flood1.at - flood0.at);
  const stormExtraCpuMs = stormCpu.ms - flood0.ms - baseRate * (stormCpu.at - flood0.at);

  // Closed by the server: connected, then closed before the client gave up (a refused connect has no connectedAt).
  const byServer = sockets.filter((s) => s.connectedAt !== null && s.closedAt !== null);
  const closedAt = byServer.map((s) => s.closedAt!);
  const firstClose = closedAt.length ? startedAt + Math.min(...closedAt) : performance.now();
  const lastClose = closedAt.length ? startedAt + Math.max(...closedAt) : performance.now();
  const lifetimes = byServer.map((s) => s.closedAt! - s.connectedAt!);
  const how: Record<string, number> = {};
  for (const s of sockets) how[s.how] = (how[s.how] ?? 0) + 1;
  const tls = await tlsCheck(tlsPort);
  progress(`handshake-flood ${variant}: closed ${JSON.stringify(how)}; TLS request after: ${tls.status ?? tls.error} in ${tls.ms.toFixed(1)} ms`);
  return {
    variant,
    baseline: phaseStats(baselineSamples),
    storm: phaseStats(samples.filter((s) => s.at >= startedAt && s.at < takenAt)),
    // Requests sent once the workers held every flood socket, answered before the server closed the first one.
    held: phaseStats(samples.filter((s) => s.at >= takenAt && s.at + s.ms <= firstClose)),
    wholeFlood: phaseStats(samples.filter((s) => s.at >= startedAt && s.at <= lastClose)),
    heldWindowMs: firstClose - takenAt,
    flood: {
      connected: sockets.filter((s) => s.connectedAt !== null).length,
      connectMs: connectedAt - startedAt,
      takenMs: heldAt === null ? null : heldAt - startedAt,
      closedByServer: byServer.length,
      maxHeldByWorkers: held,
      maxQueued: queued,
      how,
      closedInTime: lifetimes.filter((ms) => ms <= o.headersTimeoutMs + CLOSE_SLACK_MS).length,
      lifetimeMs: summarizeLatencies(lifetimes),
      firstToLastCloseMs: lastClose - firstClose,
      startToLastCloseMs: lastClose - startedAt,
      bytesReceived: sockets.reduce((sum, s) => sum + s.bytesReceived, 0),
      serverCpuMsPerConnection: extraCpuMs / o.flood,
      stormCpuMsPerConnection: stormExtraCpuMs / o.flood,
      listenDrops: drops0 === null || drops1 === null ? null : drops1 - drops0,
    },
    tlsAfter: tls,
  };
}

async function run(o: FloodOptions): Promise<FloodResult> {
  const loadavgBefore = os.loadavg();
  const server = await startRocket({
    extraArgs: ['--listen', 'https://127.0.0.1:0', '--tls-cert', path.join(TLS_DIR, 'cert.pem'), '--tls-key', path.join(TLS_DIR, 'key.pem'), '--headers-timeout', String(o.headersTimeoutMs)],
  });
  // The addresses from /status: startRocket reads the first `listening` line only.
  const listening = (await getStatus(server.adminUrl!)).listening;
  const secure = listening.find((a) => a.startsWith('https://'));
  const plain = listening.find((a) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(a));
  if (secure === undefined || plain === undefined) throw new Error(`expected a plain and an https:// address, got ${listening.join(', ')}`);
  const tlsPort = Number(secure.split(':').pop());
  progress(`handshake-flood: master ${server.masterPid}, plain ${plain}, TLS ${secure}; ${o.flood} connections per flood, --headers-timeout ${o.headersTimeoutMs}`);
  const runs: FloodRun[] = [];
  for (const variant of o.variants) runs.push(await runVariant(o, variant, `http://${plain}/`, tlsPort, server.adminUrl!, server.masterPid));
  const problems = [...server.process.problems];
  await stopAll();
  return { date: new Date().toISOString(), node: process.version, machine: { cpus: os.availableParallelism(), loadavgBefore, loadavgAfter: os.loadavg() }, options: o, closeSlackMs: CLOSE_SLACK_MS, runs, serverProblems: problems.slice(0, 50) };
}

const opts = parse(process.argv.slice(2));
if (opts === null) {
  print(`${HELP}\n`);
} else {
  // Ctrl-C must not leave servers behind: stop them by pid, then exit.
  const onSignal = (sig: NodeJS.Signals): void => {
    progress(`${sig}: stopping the cluster`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    const result = await run(opts);
    writeFlood(opts.out, result);
    print(renderFlood(result));
    progress(`raw results: ${opts.out}`);
    process.exitCode = result.runs.every((r) => r.wholeFlood.failed === 0 && r.flood.closedByServer === opts.flood && r.tlsAfter.status === 200) ? 0 : 1;
  } finally {
    await stopAll();
  }
}
