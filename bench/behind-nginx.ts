// rocket-cluster behind a real load balancer: nginx in front of two
// rocket-cluster instances, under steady keep-alive load through nginx, while
// one of them is reloaded, upgraded or SIGKILLed. Not a test and not a part of
// `npm run bench`; the figures go to docs/DEPLOY.md ("Behind nginx
// (measured)"). Usage (Linux, nginx installed; `--help` for the options):
//   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/behind-nginx.js
//
// Each scenario runs on fresh processes: instances A and B (each its own
// --name, HOME and XDG_RUNTIME_DIR, so their control sockets never meet),
// then nginx with an upstream of both, then RATE requests/s from CONNECTIONS
// keep-alive connections to nginx for DURATION seconds. EVENT_AT seconds in:
//   reload        `rocket-cluster reload A`, then `reload B` (target: 0 failed)
//   upgrade       `rocket-cluster upgrade A`: a new master takes over, the old
//                 one exits (target: 0 failed)
//   kill          SIGKILL to A's master (failures bounded and reported, with
//                 how long until nginx logged A as down)
//   node-cluster  the comparison: two node:cluster primaries
//                 (bench/cluster-server.ts, its hand-written rolling restart
//                 on SIGHUP) restarted one after the other
// A request fails when it gets no 2xx or its socket fails (nginx answers 502
// or 504 when it has no upstream left to try). One in ten requests is a POST:
// nginx does not retry a POST once it was sent upstream, so those show what a
// retry could not hide. nginx adds the upstream addresses it tried to every
// response (X-Upstream), so the requests it retried on the other instance are
// counted too, and its error log is tailed for the upstream errors it saw.
//
// Every process started here is stopped at the end by pid (also on error and
// on Ctrl-C), including the master that `upgrade` starts, which is not a
// child of this script.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeLatencies, type LatencySummary } from './load/latency.js';
import { isAlive, processTree } from './procfs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BIN = path.join(ROOT, 'bin/rocket-cluster');
const HELLO_APP = path.join(ROOT, 'examples/hello.mjs');
const CLUSTER_SERVER = path.join(HERE, 'cluster-server.js');
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

const SCENARIOS = ['reload', 'upgrade', 'kill', 'node-cluster'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const START_TIMEOUT_MS = 30_000;
const CLI_TIMEOUT_MS = 90_000;
const REQUEST_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 8000;
/** Between the two reloads of the reload scenarios: nginx spreads load over both again. */
const BETWEEN_RELOADS_MS = 2000;
/** rocket-cluster's keep-alive timeout: longer than nginx's upstream keepalive_timeout (60 s), so that nginx closes an idle upstream connection first. */
const ROCKET_KEEP_ALIVE_MS = 65_000;
const POST_EVERY = 10;
const POST_BODY = 'x'.repeat(256);

// ---------------------------------------------------------------- options

interface Options {
  readonly duration: number;
  readonly rate: number;
  readonly connections: number;
  readonly workers: number;
  readonly eventAt: number;
  /** nginx's max_fails and fail_timeout (seconds) for each upstream server. */
  readonly maxFails: number;
  readonly failTimeout: number;
  readonly scenarios: readonly ScenarioName[];
  readonly out: string;
}

const SPEC = {
  duration: { def: '30', help: 'seconds of load per scenario (each scenario runs on fresh processes)' },
  rate: { def: '300', help: 'requests per second through nginx, in all (moderate: the machine has 2 cores)' },
  connections: { def: '16', help: 'keep-alive client connections to nginx' },
  workers: { def: '2', help: 'workers per rocket-cluster instance (--workers) and per node:cluster primary' },
  'event-at': { def: '5', help: 'seconds into the load at which the reload, upgrade or kill starts' },
  'max-fails': { def: '3', help: "nginx max_fails of each upstream server (nginx's own default is 1)" },
  'fail-timeout': { def: '10', help: "nginx fail_timeout of each upstream server, seconds (nginx's own default is 10)" },
  scenarios: { def: SCENARIOS.join(','), help: `comma-separated subset of ${SCENARIOS.join(', ')}` },
  out: { def: '.bench/behind-nginx.json', help: 'where the JSON results go (relative to the repository root)' },
} as const;

function usage(): string {
  const lines = Object.entries(SPEC).map(([k, s]) => `  --${k.padEnd(11)} ${s.help} [default ${s.def}]`);
  return `node dist-bench/bench/behind-nginx.js [options]\n\nnginx in front of two rocket-cluster instances; measures a rolling reload of both, an upgrade of one and a SIGKILL of one under keep-alive load through nginx.\n\n${lines.join('\n')}\n  --help, -h    this text\n`;
}

function parseOptions(argv: readonly string[]): Options | null {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...Object.fromEntries(Object.keys(SPEC).map((k) => [k, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help === true) return null;
  const get = (k: keyof typeof SPEC): string => {
    const v = (values as Record<string, unknown>)[k];
    return typeof v === 'string' ? v : SPEC[k].def;
  };
  const num = (k: keyof typeof SPEC, integer: boolean): number => {
    const n = Number(get(k));
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`--${k} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(get(k))}`);
    return n;
  };
  const scenarios = get('scenarios').split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of scenarios) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`--scenarios: unknown ${JSON.stringify(s)} (known: ${SCENARIOS.join(', ')})`);
  const o = {
    duration: num('duration', false),
    rate: num('rate', false),
    connections: num('connections', true),
    workers: num('workers', true),
    eventAt: num('event-at', false),
    maxFails: num('max-fails', true),
    failTimeout: num('fail-timeout', true),
    scenarios: scenarios as ScenarioName[],
    out: get('out'),
  };
  if (o.eventAt >= o.duration) throw new Error('--event-at must be less than --duration');
  return o;
}

// ---------------------------------------------------------------- owned processes

/**
 * Every pid this script started or saw in the tree of one it started, with
 * its start time (field 22 of /proc/<pid>/stat, in clock ticks since boot; an
 * exec does not change it). A pid is signalled only while its start time is
 * still the remembered one, so a reused pid is never hit.
 */
const owned = new Map<number, string>();
const tempDirs: string[] = [];

function startTime(pid: number): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? null : (fields[19] ?? null);
}

function remember(pid: number): void {
  if (owned.has(pid)) return;
  const t = startTime(pid);
  if (t !== null) owned.set(pid, t);
}

function rememberTree(root: number): number[] {
  const tree = isAlive(root) ? processTree(root) : [];
  for (const p of tree) remember(p);
  return tree;
}

const stillOurs = (pid: number): boolean => owned.has(pid) && startTime(pid) === owned.get(pid);

function signal(pid: number, sig: NodeJS.Signals): void {
  if (!stillOurs(pid)) return;
  try {
    process.kill(pid, sig);
  } catch {
    // gone meanwhile
  }
}

async function waitGone(pids: readonly number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(stillOurs)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM to `root` (graceful), then SIGKILL to whatever of its remembered tree is left after the grace. */
async function stopTree(root: number, remembered: readonly number[]): Promise<void> {
  const tree = [...new Set([...remembered, ...rememberTree(root)])];
  signal(root, 'SIGTERM');
  if (!(await waitGone(tree, STOP_GRACE_MS))) for (const p of tree) signal(p, 'SIGKILL');
  await waitGone(tree, 2000);
}

/** Last resort, at the very end: SIGKILL every remembered pid still alive. */
async function killLeftovers(): Promise<number[]> {
  const left = [...owned.keys()].filter(stillOurs);
  for (const p of left) signal(p, 'SIGKILL');
  await waitGone(left, 3000);
  return left;
}

function progress(text: string): void {
  process.stderr.write(`# ${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

// ---------------------------------------------------------------- backends

interface TimedLine {
  readonly at: number;
  readonly line: Record<string, unknown>;
}

/** One backend behind nginx: a rocket-cluster instance, or a node:cluster primary for the comparison. */
interface Backend {
  readonly label: 'A' | 'B';
  readonly kind: 'rocket-cluster' | 'node:cluster';
  /** rocket-cluster's --name. */
  readonly name: string;
  /** HOME and XDG_RUNTIME_DIR of this instance and of the CLI commands sent to it. */
  readonly env: NodeJS.ProcessEnv;
  readonly child: ChildProcess;
  readonly port: number;
  /** The master now; the new one after an upgrade. */
  masterPid: number;
  /** Every pid seen in its tree. */
  readonly pids: Set<number>;
  /** Its JSON log lines (the new master's too after an upgrade: it inherits the same stdout), with the time each was read. */
  readonly lines: TimedLine[];
  /** Lines at pino level warn or above, and anything that was not JSON. */
  readonly problems: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  waitForLine(match: (l: Record<string, unknown>) => boolean, ms: number, after?: number): Promise<TimedLine>;
}

function watchTree(b: Backend): void {
  for (const p of rememberTree(b.masterPid)) b.pids.add(p);
}

async function startBackend(label: 'A' | 'B', kind: Backend['kind'], workers: number, tag: string): Promise<Backend> {
  const home = mkdtempSync(path.join(os.tmpdir(), `rocket-nginx-${label}-`));
  tempDirs.push(home);
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: home };
  const name = `nginx-${tag}-${label.toLowerCase()}`;
  const args =
    kind === 'rocket-cluster'
      ? [
          BIN, 'start', HELLO_APP, '--name', name, '--workers', String(workers), '--listen', '127.0.0.1:0', '--no-access-log', '--log-level', 'info',
          '--shutdown-timeout', '3000', '--keep-alive-timeout', String(ROCKET_KEEP_ALIVE_MS),
        ]
      : [CLUSTER_SERVER, HELLO_APP, String(workers), 'rr'];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${label}: spawn failed`);
  remember(child.pid);
  const lines: TimedLine[] = [];
  const problems: string[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, sig) => {
      resolve({ code, signal: sig, at: Date.now() });
      for (const w of waiters) w();
    }),
  );
  readline.createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      if (problems.length < 100) problems.push(text);
      return;
    }
    const rootNotice = typeof line.msg === 'string' && line.msg.startsWith('running as root');
    if (typeof line.level === 'number' && line.level >= 40 && !rootNotice && problems.length < 100) problems.push(text);
    lines.push({ at: Date.now(), line });
    for (const w of waiters) w();
  });
  readline.createInterface({ input: child.stderr! }).on('line', (text) => problems.length < 100 && problems.push(`stderr: ${text}`));

  const b: Backend = {
    label, kind, name, env, child, port: 0, masterPid: child.pid, pids: new Set([child.pid]), lines, problems, exited,
    async waitForLine(match, ms, after = 0) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = lines.find((l) => l.at >= after && match(l.line));
        if (hit) return hit;
        if (Date.now() >= deadline) throw new Error(`${kind} ${label}: no expected log line within ${ms} ms; problems: ${problems.slice(-5).join(' | ')}`);
        let wake!: () => void;
        const woke = new Promise<void>((r) => (wake = r));
        waiters.add(wake);
        await Promise.race([woke, sleep(Math.min(250, deadline - Date.now()))]);
        waiters.delete(wake);
      }
    },
  };
  const exitedEarly = exited.then(({ code, signal: sig }) => {
    throw new Error(`${kind} ${label} exited with ${code ?? sig} before listening: ${problems.slice(-5).join(' | ')}`);
  });
  exitedEarly.catch(() => undefined);
  const listening = await Promise.race([
    b.waitForLine((l) => l.msg === 'listening' && (kind === 'node:cluster' || l.role === 'master'), START_TIMEOUT_MS),
    exitedEarly,
  ]);
  const port = Number(String(listening.line.address).split(':').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${label}: cannot read the port from ${JSON.stringify(listening.line)}`);
  Object.assign(b, { port });
  if (kind === 'rocket-cluster' && typeof listening.line.pid === 'number') b.masterPid = listening.line.pid;
  // Every worker ready before the load starts: a rocket-cluster master listens before its workers are up.
  if (kind === 'rocket-cluster') await waitServes(port, START_TIMEOUT_MS);
  watchTree(b);
  return b;
}

async function waitServes(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
      async (r) => (await r.text(), r.status === 200),
      () => false,
    );
    if (ok) return;
    if (Date.now() >= deadline) throw new Error(`nothing answered 200 on port ${port} within ${ms} ms`);
    await sleep(100);
  }
}

async function stopBackend(b: Backend): Promise<void> {
  watchTree(b);
  await stopTree(b.masterPid, [...b.pids]);
  // The spawned process (the old master after an upgrade) is our child: reap it.
  if (b.child.exitCode === null && b.child.signalCode === null) {
    b.child.kill('SIGKILL'); // our child, not yet reaped: its pid cannot have been reused
    await Promise.race([b.exited, sleep(5000)]);
  }
}

interface CliRun {
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Relative to the load's start. */
  readonly startS: number;
  readonly ms: number;
}

async function cli(b: Backend, args: readonly string[], t0: number): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: b.env, cwd: ROOT, timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ args, code, stdout: stdout.trim(), stderr: stderr.trim(), startS: (started - t0) / 1000, ms: Date.now() - started });
    });
    if (child.pid !== undefined) remember(child.pid);
  });
}

// ---------------------------------------------------------------- nginx

interface Nginx {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly prefix: string;
  readonly errorLog: string;
  readonly config: string;
  readonly pids: Set<number>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
}

/** The upstream and proxy settings measured here (documented in docs/DEPLOY.md). */
function upstreamConfig(ports: readonly number[], o: Options): string {
  return `upstream rocket {
    ${ports.map((p) => `server 127.0.0.1:${p} max_fails=${o.maxFails} fail_timeout=${o.failTimeout}s;`).join('\n    ')}
    keepalive 32;               # idle connections to the instances kept per nginx worker
    keepalive_timeout 60s;      # below rocket-cluster's --keep-alive-timeout (65 s here): nginx closes first
  }
  server {
    listen 127.0.0.1:__PORT__;
    location / {
      proxy_pass http://rocket;
      proxy_http_version 1.1;
      proxy_set_header Connection "";        # keep-alive to the upstream
      proxy_set_header Host $host;
      proxy_next_upstream error timeout;     # retry on the other instance (not a POST already sent)
      proxy_next_upstream_tries 2;
      proxy_next_upstream_timeout 10s;
      proxy_connect_timeout 2s;
      proxy_read_timeout 30s;
      add_header X-Upstream $upstream_addr always;   # measurement only: which instances were tried
    }
  }`;
}

async function startNginx(ports: readonly number[], o: Options): Promise<Nginx> {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'rocket-nginx-prefix-'));
  tempDirs.push(prefix);
  const port = await freePort();
  const errorLog = path.join(prefix, 'error.log');
  const conf = path.join(prefix, 'nginx.conf');
  const upstream = upstreamConfig(ports, o).replace('__PORT__', String(port));
  // As root the workers run as www-data, as a packaged nginx does; as anyone else nginx ignores `user`.
  const user = process.getuid?.() === 0 ? 'user www-data www-data;\n' : '';
  writeFileSync(
    conf,
    `${user}worker_processes 1;
daemon off;
pid ${path.join(prefix, 'nginx.pid')};
error_log ${errorLog} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  ${upstream}
}
`,
  );
  const child = spawn(NGINX, ['-c', conf, '-p', prefix], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (child.pid === undefined) throw new Error('nginx: spawn failed');
  remember(child.pid);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const n: Nginx = { port, pid: child.pid, child, prefix, errorLog, config: upstream, pids: new Set([child.pid]) };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
      async (r) => (await r.text(), r.status === 200),
      () => false,
    );
    if (ok) break;
    if (Date.now() >= deadline) throw new Error(`nginx did not answer 200 within ${START_TIMEOUT_MS} ms: ${stderr}`);
    await sleep(100);
  }
  for (const p of rememberTree(child.pid)) n.pids.add(p);
  return n;
}

async function stopNginx(n: Nginx): Promise<void> {
  for (const p of rememberTree(n.pid)) n.pids.add(p);
  await stopTree(n.pid, [...n.pids]);
  if (n.child.exitCode === null && n.child.signalCode === null) {
    n.child.kill('SIGKILL');
    await Promise.race([new Promise((r) => n.child.once('exit', r)), sleep(5000)]);
  }
}

/** The commit the run was built from, and whether src/ differed from it (others edit the working tree). */
function revision(): { commit: string; srcModified: boolean } {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  return { commit: head.stdout?.trim() || 'unknown', srcModified: (dirty.stdout ?? '').trim() !== '' };
}

function nginxVersion(): string {
  const r = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return (r.stderr || r.stdout || '').trim().replace(/^nginx version: /, '') || 'unknown';
}

/** Follows nginx's error log; each line is stamped with the time it was read (every 50 ms). */
class LogTail {
  readonly lines: { at: number; text: string }[] = [];
  #offset = 0;
  #rest = '';
  readonly #timer: NodeJS.Timeout;

  constructor(readonly file: string) {
    this.#timer = setInterval(() => this.poll(), 50);
  }

  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        const text = this.#rest + buf.subarray(0, n).toString('utf8');
        const parts = text.split('\n');
        this.#rest = parts.pop() ?? '';
        const now = Date.now();
        for (const p of parts) if (p.trim() !== '') this.lines.push({ at: now, text: p });
      }
    } finally {
      closeSync(fd);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.poll();
  }
}

/** A short name for what an nginx error-log line reports, with the upstream it is about (A or B) when it names one. */
function nginxErrorKind(text: string, label: (addr: string) => string): string {
  const upstream = /upstream: "http:\/\/([\d.]+:\d+)\//.exec(text)?.[1];
  const about = upstream === undefined ? '' : ` (${label(upstream)})`;
  return `${nginxErrorWhat(text)}${about}`;
}

function nginxErrorWhat(text: string): string {
  const known: [RegExp, string][] = [
    [/upstream server temporarily disabled/, 'upstream marked down'],
    [/no live upstreams/, 'no live upstreams'],
    [/connect\(\) failed \(111/, 'connect refused'],
    [/upstream prematurely closed/, 'upstream closed the connection early'],
    [/\(104: Connection reset by peer\)/, 'connection reset by upstream'],
    [/\(32: Broken pipe\)/, 'broken pipe to upstream'],
    [/upstream timed out/, 'upstream timed out'],
  ];
  for (const [re, kind] of known) if (re.test(text)) return kind;
  return text.replace(/^\S+ \S+ \[\w+\] \d+#\d+: (\*\d+ )?/, '').slice(0, 80);
}

// ---------------------------------------------------------------- load

interface Sample {
  /** ms after the load started that the request was sent. */
  readonly t: number;
  readonly ms: number;
  readonly method: 'GET' | 'POST';
  readonly status: number | null;
  readonly error: string | null;
  /** nginx's X-Upstream: the upstream addresses tried, comma-separated. */
  readonly upstream: string | null;
}

/**
 * `connections` keep-alive connections to nginx, together about `rate`
 * requests/s, each connection one request at a time, until `durationS`
 * passes. Every request's outcome is kept.
 */
async function runLoad(port: number, o: Options, t0: number): Promise<Sample[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const samples: Sample[] = [];
  const interval = (o.connections * 1000) / o.rate;
  const end = t0 + o.duration * 1000;
  let n = 0;
  const one = (method: 'GET' | 'POST'): Promise<void> =>
    new Promise((resolve) => {
      const sent = Date.now();
      const start = performance.now();
      let done = false;
      const finish = (status: number | null, error: string | null, upstream: string | null): void => {
        if (done) return;
        done = true;
        samples.push({ t: sent - t0, ms: performance.now() - start, method, status, error, upstream });
        resolve();
      };
      const req = http.request({ host: '127.0.0.1', port, path: '/', method, agent, timeout: REQUEST_TIMEOUT_MS, headers: method === 'POST' ? { 'content-type': 'text/plain', 'content-length': POST_BODY.length } : {} }, (res) => {
        const upstream = typeof res.headers['x-upstream'] === 'string' ? res.headers['x-upstream'] : null;
        res.resume();
        res.once('end', () => finish(res.statusCode ?? 0, null, upstream));
        res.once('aborted', () => finish(null, 'response aborted', upstream));
        res.once('error', (e: NodeJS.ErrnoException) => finish(null, e.code ?? e.message, upstream));
      });
      req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.once('error', (e: NodeJS.ErrnoException) => finish(null, e.code ?? e.message, null));
      req.end(method === 'POST' ? POST_BODY : undefined);
    });
  await Promise.all(
    Array.from({ length: o.connections }, async (_, i) => {
      // Staggered starts, then a fixed pace per connection; a late one does not try to catch up by more than one interval.
      let next = t0 + (i * interval) / o.connections;
      while (next < end) {
        if (next > Date.now()) await sleep(next - Date.now());
        await one(++n % POST_EVERY === 0 ? 'POST' : 'GET');
        next = Math.max(next + interval, Date.now() - interval);
      }
    }),
  );
  agent.destroy();
  return samples;
}

const failed = (s: Sample): boolean => s.error !== null || s.status === null || s.status < 200 || s.status > 299;
const failureKind = (s: Sample): string => (s.error !== null ? s.error : `HTTP ${s.status}`);

// ---------------------------------------------------------------- scenarios

interface EventReport {
  /** What happened, one line for the table. */
  readonly summary: string;
  readonly commands?: CliRun[];
  /** kill: ms from the SIGKILL to nginx's "temporarily disabled" line for A (null: none logged). */
  readonly markedDownAfterMs?: number | null;
  /** kill: ms from the SIGKILL until every process of A's tree had gone. */
  readonly treeGoneAfterMs?: number | null;
  /** upgrade: the new master and how the old one ended. */
  readonly newMasterPid?: number;
  readonly oldMasterExit?: { code: number | null; signal: string | null; afterMs: number };
  /** When the event started and ended, seconds after the load started. */
  readonly startS: number;
  readonly endS: number;
}

interface ScenarioResult {
  readonly scenario: ScenarioName;
  readonly backend: Backend['kind'];
  readonly ports: { readonly nginx: number; readonly A: number; readonly B: number };
  readonly requests: number;
  readonly posts: number;
  readonly failed: number;
  readonly failedPosts: number;
  readonly failureKinds: Record<string, number>;
  /** Failed requests' send times, seconds after the event started: first and last. */
  readonly failureWindowS: { readonly first: number; readonly last: number } | null;
  /** Requests nginx sent to a second upstream after the first failed (X-Upstream lists two). */
  readonly retriedByNginx: number;
  readonly latency: LatencySummary;
  /** Requests sent from the event's start to one second after its end. */
  readonly duringEvent: { readonly requests: number; readonly failed: number; readonly latency: LatencySummary };
  /** Which instance answered, before the event, during it and after it. */
  readonly servedBy: Record<'before' | 'during' | 'after', Record<string, number>>;
  readonly nginxErrors: Record<string, number>;
  /** nginx's error-log lines (at most 200), with when they were read, seconds after the load started. */
  readonly nginxErrorLog: { atS: number; text: string }[];
  readonly event: EventReport;
  readonly perSecond: { s: number; requests: number; failed: number; p99: number | null }[];
  /** Warnings and errors the backends logged, and anything they printed that was not JSON. */
  readonly backendProblems: string[];
  readonly target: string;
  readonly targetMet: boolean | null;
}

async function runScenario(scenario: ScenarioName, o: Options, index: number): Promise<ScenarioResult> {
  const kind: Backend['kind'] = scenario === 'node-cluster' ? 'node:cluster' : 'rocket-cluster';
  const tag = `${process.pid}-${index}`;
  const backends: Backend[] = [];
  let nginx: Nginx | undefined;
  let tail: LogTail | undefined;
  try {
    progress(`${scenario}: starting two ${kind} instances (${o.workers} workers each) and nginx`);
    const started = await Promise.allSettled([startBackend('A', kind, o.workers, tag), startBackend('B', kind, o.workers, tag)]);
    for (const s of started) if (s.status === 'fulfilled') backends.push(s.value);
    const failedStart = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failedStart) throw failedStart.reason;
    const [a, b] = backends as [Backend, Backend];
    nginx = await startNginx([a.port, b.port], o);
    tail = new LogTail(nginx.errorLog);
    const label = (addr: string): string => (addr === `127.0.0.1:${a.port}` ? 'A' : addr === `127.0.0.1:${b.port}` ? 'B' : addr);

    progress(`${scenario}: ${o.rate} requests/s from ${o.connections} keep-alive connections to nginx :${nginx.port} for ${o.duration} s; the event at ${o.eventAt} s`);
    const t0 = Date.now() + 100;
    const load = runLoad(nginx.port, o, t0);
    await sleep(t0 + o.eventAt * 1000 - Date.now());
    const eventStart = Date.now();
    let event: EventReport;
    try {
      event = await runEvent(scenario, a, b, t0, tail);
    } catch (e) {
      await load; // bounded by --duration
      throw e;
    }
    const samples = await load;
    tail.stop();
    if (event.endS > o.duration) event = { ...event, summary: `${event.summary} (**ended ${(event.endS - o.duration).toFixed(1)} s after the load**: raise --duration)` };
    const eventEnd = t0 + event.endS * 1000;
    for (const x of backends) watchTree(x);

    const fails = samples.filter(failed);
    const kinds: Record<string, number> = {};
    for (const s of fails) kinds[failureKind(s)] = (kinds[failureKind(s)] ?? 0) + 1;
    const servedBy: ScenarioResult['servedBy'] = { before: {}, during: {}, after: {} };
    for (const s of samples) {
      if (s.upstream === null) continue;
      const phase = s.t + t0 < eventStart ? 'before' : s.t + t0 <= eventEnd + 1000 ? 'during' : 'after';
      const last = label(s.upstream.split(',').pop()!.trim());
      servedBy[phase][last] = (servedBy[phase][last] ?? 0) + 1;
    }
    const during = samples.filter((s) => s.t + t0 >= eventStart && s.t + t0 <= eventEnd + 1000);
    const nginxErrors: Record<string, number> = {};
    for (const l of tail.lines) {
      const k = nginxErrorKind(l.text, label);
      nginxErrors[k] = (nginxErrors[k] ?? 0) + 1;
    }
    const buckets = new Map<number, Sample[]>();
    for (const s of samples) {
      const k = Math.floor(s.t / 1000);
      const list = buckets.get(k);
      if (list) list.push(s);
      else buckets.set(k, [s]);
    }
    const failedSends = fails.map((s) => (s.t + t0 - eventStart) / 1000);
    const count = fails.length;
    const target = scenario === 'kill' ? 'bounded, reported' : '0 failed';
    return {
      scenario,
      backend: kind,
      ports: { nginx: nginx.port, A: a.port, B: b.port },
      requests: samples.length,
      posts: samples.filter((s) => s.method === 'POST').length,
      failed: count,
      failedPosts: fails.filter((s) => s.method === 'POST').length,
      failureKinds: kinds,
      failureWindowS: count === 0 ? null : { first: Math.min(...failedSends), last: Math.max(...failedSends) },
      retriedByNginx: samples.filter((s) => s.upstream !== null && s.upstream.includes(',')).length,
      latency: summarizeLatencies(samples.map((s) => s.ms)),
      duringEvent: { requests: during.length, failed: during.filter(failed).length, latency: summarizeLatencies(during.map((s) => s.ms)) },
      servedBy,
      nginxErrors,
      nginxErrorLog: tail.lines.slice(0, 200).map((l) => ({ atS: (l.at - t0) / 1000, text: l.text })),
      event,
      perSecond: [...buckets.entries()]
        .sort(([x], [y]) => x - y)
        .map(([s, list]) => ({ s, requests: list.length, failed: list.filter(failed).length, p99: summarizeLatencies(list.map((x) => x.ms)).p99 })),
      backendProblems: backends.flatMap((x) => x.problems.map((p) => `${x.label}: ${p}`)),
      target,
      targetMet: scenario === 'kill' ? null : count === 0,
    };
  } finally {
    tail?.stop();
    progress(`${scenario}: stopping nginx and the instances`);
    await Promise.allSettled([...(nginx ? [stopNginx(nginx)] : []), ...backends.map(stopBackend)]);
  }
}

async function runEvent(scenario: ScenarioName, a: Backend, b: Backend, t0: number, tail: LogTail): Promise<EventReport> {
  const rel = (at: number): number => (at - t0) / 1000;
  const startS = rel(Date.now());
  switch (scenario) {
    case 'reload': {
      const commands: CliRun[] = [];
      for (const x of [a, b]) {
        const r = await cli(x, ['reload', x.name], t0);
        commands.push(r);
        progress(`reload ${x.label}: exit ${r.code} in ${r.ms} ms: ${r.stdout || r.stderr}`);
        if (r.code !== 0) throw new Error(`reload ${x.label} exited ${r.code}: ${r.stderr}`);
        watchTree(x);
        if (x === a) await sleep(BETWEEN_RELOADS_MS);
      }
      return { summary: commands.map((r, i) => `reload ${i === 0 ? 'A' : 'B'} ${(r.ms / 1000).toFixed(1)} s`).join(', '), commands, startS, endS: rel(Date.now()) };
    }
    case 'upgrade': {
      const sent = Date.now();
      const r = await cli(a, ['upgrade', a.name], t0);
      progress(`upgrade A: exit ${r.code} in ${r.ms} ms: ${r.stdout || r.stderr}`);
      const pid = Number(/new master pid (\d+)/.exec(r.stdout)?.[1]);
      if (Number.isInteger(pid) && pid > 0) {
        remember(pid);
        a.masterPid = pid; // stopped at the end by this pid: it is not our child
        watchTree(a);
      }
      if (r.code !== 0) throw new Error(`upgrade A exited ${r.code}: ${r.stderr || r.stdout}`);
      // The old master hands its connections over and exits; bounded by its drain.
      const old = await Promise.race([a.exited, sleep(40_000).then(() => null)]);
      watchTree(a);
      const oldMasterExit = old === null ? undefined : { code: old.code, signal: old.signal, afterMs: old.at - sent };
      const how = oldMasterExit ? `old master exited ${oldMasterExit.code ?? oldMasterExit.signal} ${(oldMasterExit.afterMs / 1000).toFixed(1)} s after` : 'old master still running after 40 s';
      return { summary: `upgrade A ${(r.ms / 1000).toFixed(1)} s, new master pid ${pid}; ${how}`, commands: [r], newMasterPid: pid, ...(oldMasterExit ? { oldMasterExit } : {}), startS, endS: rel(Date.now()) };
    }
    case 'kill': {
      const tree = watchTreeNow(a);
      const killedAt = Date.now();
      signal(a.masterPid, 'SIGKILL');
      progress(`kill: SIGKILL to A's master ${a.masterPid} (tree ${tree.join(' ')})`);
      const downLine = (): { at: number } | undefined => tail.lines.find((l) => l.at >= killedAt && /temporarily disabled/.test(l.text) && l.text.includes(`127.0.0.1:${a.port}`));
      let treeGoneAt: number | null = null;
      let downAt: number | null = null;
      const deadline = killedAt + 15_000;
      while (Date.now() < deadline && (treeGoneAt === null || downAt === null)) {
        if (treeGoneAt === null && !tree.some(isAlive)) treeGoneAt = Date.now();
        if (downAt === null) downAt = downLine()?.at ?? null;
        await sleep(25);
      }
      const markedDownAfterMs = downAt === null ? null : downAt - killedAt;
      const treeGoneAfterMs = treeGoneAt === null ? null : treeGoneAt - killedAt;
      return {
        summary: `SIGKILL A's master; nginx logged A down after ${markedDownAfterMs === null ? '— (not within 15 s)' : `${markedDownAfterMs} ms`}; A's workers and monitor gone after ${treeGoneAfterMs === null ? '>15 s' : `${treeGoneAfterMs} ms`}`,
        markedDownAfterMs,
        treeGoneAfterMs,
        startS,
        endS: rel(killedAt),
      };
    }
    case 'node-cluster': {
      const ms: number[] = [];
      for (const x of [a, b]) {
        const sent = Date.now();
        const ended = x.waitForLine((l) => typeof l.msg === 'string' && /^restart (complete|aborted|refused)/.test(l.msg), CLI_TIMEOUT_MS, sent);
        signal(x.masterPid, 'SIGHUP');
        const line = await ended;
        ms.push(Date.now() - sent);
        progress(`node:cluster ${x.label}: ${String(line.line.msg)} in ${Date.now() - sent} ms`);
        if (line.line.msg !== 'restart complete') throw new Error(`node:cluster ${x.label}: ${String(line.line.msg)}`);
        watchTree(x);
        if (x === a) await sleep(BETWEEN_RELOADS_MS);
      }
      return { summary: `SIGHUP restart A ${(ms[0]! / 1000).toFixed(1)} s, B ${(ms[1]! / 1000).toFixed(1)} s`, startS, endS: rel(Date.now()) };
    }
  }
}

/** The tree of `b` now, remembered. */
function watchTreeNow(b: Backend): number[] {
  watchTree(b);
  return [...b.pids].filter(isAlive);
}

// ---------------------------------------------------------------- report

const f = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(digits));

function renderMarkdown(results: ScenarioResult[], header: string): string {
  const kinds = (r: ScenarioResult): string => Object.entries(r.failureKinds).map(([k, n]) => `${k} ×${n}`).join(', ') || '—';
  const title = (r: ScenarioResult): string =>
    ({ reload: 'rolling `reload` of A, then B', upgrade: '`upgrade` of A', kill: 'SIGKILL of A\'s master', 'node-cluster': 'node:cluster, rolling restart of A, then B (comparison)' })[r.scenario];
  const rows = results.map((r) => {
    const window = r.failureWindowS ? ` (sent ${f(r.failureWindowS.first, 2)}…${f(r.failureWindowS.last, 2)} s after the event)` : '';
    const verdict = r.targetMet === null ? 'reported' : r.targetMet ? 'met' : '**missed**';
    return `| ${title(r)} | ${r.requests} | ${r.failed}${r.failedPosts > 0 ? ` (${r.failedPosts} POST)` : ''}${window} | ${kinds(r)} | ${r.retriedByNginx} | ${f(r.latency.p50)} | ${f(r.latency.p99)} | ${f(r.duringEvent.latency.p99)} | ${f(r.latency.max, 0)} | ${r.event.summary} | ${r.target}: ${verdict} |`;
  });
  const errors = results.map((r) => `| ${r.scenario} | ${Object.entries(r.nginxErrors).map(([k, n]) => `${k} ×${n}`).join(', ') || '—'} |`);
  return [
    header,
    '',
    '| scenario | requests | failed | failure kinds | retried by nginx | p50 ms | p99 ms | p99 ms during the event | max ms | event | target |',
    '|---|---:|---|---|---:|---:|---:|---:|---:|---|---|',
    ...rows,
    '',
    'nginx error log (upstream errors it saw; a GET that failed on one instance was retried on the other):',
    '',
    '| scenario | lines |',
    '|---|---|',
    ...errors,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- main

async function main(o: Options): Promise<number> {
  const nginxV = nginxVersion();
  const load = os.loadavg();
  const rev = revision();
  const header = `behind-nginx: ${rev.commit}${rev.srcModified ? ' (src/ modified)' : ''}, nginx ${nginxV}, Node ${process.version}, ${os.availableParallelism()} CPUs, load average at start ${load.map((l) => l.toFixed(1)).join(' ')}; ${o.rate} req/s from ${o.connections} keep-alive connections for ${o.duration} s per scenario, event at ${o.eventAt} s, ${o.workers} workers per instance, nginx max_fails=${o.maxFails} fail_timeout=${o.failTimeout}s`;
  progress(header);
  const results: ScenarioResult[] = [];
  const errors: { scenario: ScenarioName; error: string }[] = [];
  for (const [i, s] of o.scenarios.entries()) {
    try {
      const r = await runScenario(s, o, i);
      results.push(r);
      progress(`${s}: ${r.requests} requests, ${r.failed} failed ${JSON.stringify(r.failureKinds)}, retried by nginx ${r.retriedByNginx}, p50 ${f(r.latency.p50)} ms, p99 ${f(r.latency.p99)} ms; ${r.event.summary}`);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      errors.push({ scenario: s, error });
      progress(`${s}: ERROR ${error}`);
    }
    await sleep(1000);
  }
  process.stdout.write(renderMarkdown(results, header));
  for (const e of errors) process.stdout.write(`\n**${e.scenario} not measured:** ${e.error}\n`);
  const out = path.resolve(ROOT, o.out);
  mkdirSync(path.dirname(out), { recursive: true });
  const first = results[0];
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        revision: rev,
        node: process.version,
        nginx: nginxV,
        machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', loadAverageAtStart: load },
        options: o,
        nginxConfig: first ? upstreamConfig([first.ports.A, first.ports.B], o).replace('__PORT__', String(first.ports.nginx)) : null,
        scenarios: results,
        errors,
      },
      null,
      2,
    )}\n`,
  );
  progress(`JSON: ${out}`);
  return errors.length > 0 || results.some((r) => r.targetMet === false) ? 1 : 0;
}

async function cleanup(): Promise<void> {
  const left = await killLeftovers();
  if (left.length > 0) progress(`killed leftover processes: ${left.join(' ')}`);
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

let opts: Options | null;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n\n${usage()}`);
  process.exit(2);
}
if (opts === null) {
  process.stdout.write(usage());
} else {
  const onSignal = (sig: NodeJS.Signals): void => {
    progress(`${sig}: stopping every process started here`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    process.exitCode = await main(opts);
  } finally {
    await cleanup();
  }
}
