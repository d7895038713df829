import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, type Launched, type LogLine } from './children.js';
import { waitForFileLines } from './log-file.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root, from dist-bench/bench/. */
export const ROOT = path.resolve(HERE, '../..');
export const HELLO_APP = path.join(ROOT, 'examples/hello.mjs');
/** The think-time parts' app (fast path, 20 ms CPU slow path), compiled beside this file. */
export const THINK_APP = path.join(HERE, 'apps/think-app.js');
/** The same app as a script that listens on $PORT itself, for PM2 cluster mode. */
export const LISTEN_THINK_APP = path.join(HERE, 'apps/listen-think-app.js');
export const BIN = path.join(ROOT, 'bin/rocket-cluster');
const START_TIMEOUT_MS = 20_000;

export type ServerName =
  | 'rocket-cluster'
  | 'rocket-cluster +access log'
  | 'rocket-cluster --accept master'
  | 'rocket-cluster, 4 workers'
  | 'rocket-cluster, 1..2 workers'
  | 'node:cluster'
  | 'node:cluster SCHED_NONE'
  | 'node:cluster SCHED_NONE, 4 workers'
  | 'single process'
  | 'rocket-cluster, per-request balancing'
  | 'PM2 cluster'
  | 'rocket-cluster --static'
  | 'serve-static on node:cluster'
  | 'nginx';

/** What kind of process tree a contender is: how it reloads, how it reports what each worker served. */
export type ServerKind = 'rocket-cluster' | 'node:cluster' | 'single process' | 'nginx';

/** A running contender: where to send load, and the process tree to measure and stop. */
export interface Server {
  readonly name: ServerName;
  readonly kind: ServerKind;
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly process: Launched;
  /** rocket-cluster only: the admin listener's base URL, when started with one. */
  readonly adminUrl?: string;
  /** rocket-cluster only: its --name, for the control socket (`rocket-cluster status`). */
  readonly clusterName?: string;
  /** rocket-cluster with --log-dir: where its log files are (removed when it stops). */
  readonly logDir?: string;
  /**
   * The process that reloads on SIGHUP: rocket-cluster's master (the pid in
   * its `"role":"master"` lines), node:cluster's primary.
   */
  readonly masterPid: number;
}

export interface RocketOptions {
  readonly name?: ServerName;
  /** The app module; examples/hello.mjs unless given; null for none (a `--static` file server). */
  readonly app?: string | null;
  /** Flags after the common ones; they win over them. */
  readonly extraArgs?: readonly string[];
  /** 2 workers unless this says otherwise (`[]`: the CLI's defaults). */
  readonly poolArgs?: readonly string[];
  /**
   * true: the defaults (one access-log line per request), written to files
   * under a temporary --log-dir so that the bench does not read every line.
   */
  readonly accessLog?: boolean;
  /**
   * With an admin listener (the default: the park and reload parts poll
   * /status). The throughput and balance contenders run without one, as a
   * user's cluster does by default: with it, workers load prom-client and
   * time every request for the metrics. Their status comes over the control
   * socket instead.
   */
  readonly admin?: boolean;
}

const isListening = (l: LogLine): boolean => l.msg === 'listening';
const isMasterListening = (l: LogLine): boolean => l.role === 'master' && isListening(l);
const isAdminListening = (l: LogLine): boolean => l.msg === 'admin listening';
let clusters = 0;

/**
 * rocket-cluster through its real CLI. `info` is the lowest level that still
 * logs the bound addresses; the access log is off unless asked for, so that,
 * like the baselines, no process writes a line per request. Each cluster gets
 * its own --name: a second cluster of the same name is refused (control socket).
 */
export async function startRocket(o: RocketOptions = {}): Promise<Server> {
  const name = o.name ?? 'rocket-cluster';
  const clusterName = `bench-${process.pid}-${++clusters}`;
  const logDir = o.accessLog === true ? mkdtempSync(path.join(os.tmpdir(), 'rocket-bench-logs-')) : undefined;
  const logArgs = logDir === undefined ? ['--no-access-log'] : ['--log-dir', logDir];
  const withAdmin = o.admin !== false;
  const proc = launch(name, [
    BIN, 'start', ...(o.app === null ? [] : [o.app ?? HELLO_APP]), ...(o.poolArgs ?? ['--workers', '2']), '--name', clusterName, '--listen', '127.0.0.1:0', ...(withAdmin ? ['--admin', '127.0.0.1:0'] : []),
    ...logArgs, '--log-level', 'info', '--shutdown-timeout', '3000', ...(o.extraArgs ?? []),
  ], { cleanup: logDir === undefined ? undefined : () => rmSync(logDir, { recursive: true, force: true }) });
  try {
    // With --log-dir nothing reaches stdout: the same lines are read from the file.
    const wanted = withAdmin ? [isMasterListening, isAdminListening] : [isMasterListening];
    const [listening, admin] = logDir === undefined
      ? await Promise.all(wanted.map((w) => proc.waitForLine(w, START_TIMEOUT_MS)))
      : await waitForFileLines(path.join(logDir, clusterName, 'current.log'), wanted, proc, START_TIMEOUT_MS);
    proc.tree();
    const masterPid = typeof listening!.pid === 'number' ? listening!.pid : proc.pid;
    return {
      name, kind: 'rocket-cluster', url: `http://${String(listening!.address)}/`, process: proc, masterPid, clusterName,
      ...(admin ? { adminUrl: String(admin.address) } : {}), ...(logDir ? { logDir } : {}),
    };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

export interface NodeClusterOptions {
  readonly name?: ServerName;
  /** The app module; examples/hello.mjs unless given. */
  readonly app?: string;
  readonly workers?: number;
  /** `rr`: cluster.SCHED_RR (the baseline); `none`: SCHED_NONE, workers accept on the shared socket. */
  readonly policy?: 'rr' | 'none';
  /** Workers count requests and the primary prints the counts on SIGUSR2 (see cluster-server.ts). */
  readonly count?: boolean;
}

export async function startNodeCluster(o: NodeClusterOptions = {}): Promise<Server> {
  const args = [path.join(HERE, 'cluster-server.js'), o.app ?? HELLO_APP, String(o.workers ?? 2), o.policy ?? 'rr', ...(o.count === true ? ['count'] : [])];
  return startScript(o.name ?? (o.policy === 'none' ? 'node:cluster SCHED_NONE' : 'node:cluster'), 'node:cluster', args);
}

export async function startSingle(): Promise<Server> {
  return startScript('single process', 'single process', [path.join(HERE, 'single-server.js'), HELLO_APP]);
}

export async function startScript(name: ServerName, kind: ServerKind, args: readonly string[]): Promise<Server> {
  const proc = launch(name, args);
  try {
    const line = await proc.waitForLine(isListening, START_TIMEOUT_MS);
    proc.tree();
    return { name, kind, url: `http://${String(line.address)}/`, process: proc, masterPid: proc.pid };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** The throughput part's contenders, 2 workers each, in the order they alternate within a round. */
export const THROUGHPUT_CONTENDERS: readonly (() => Promise<Server>)[] = [
  () => startRocket({ admin: false }),
  () => startRocket({ name: 'rocket-cluster +access log', accessLog: true, admin: false }),
  () => startRocket({ name: 'rocket-cluster --accept master', extraArgs: ['--accept', 'master'], admin: false }),
  () => startNodeCluster(),
  () => startNodeCluster({ policy: 'none' }),
  () => startSingle(),
];

/** The balance measurement's contenders: 4 workers, `Connection: close` load. */
export const BALANCE_CONTENDERS: readonly (() => Promise<Server>)[] = [
  () => startRocket({ name: 'rocket-cluster, 4 workers', poolArgs: ['--workers', '4'], admin: false }),
  () => startNodeCluster({ name: 'node:cluster SCHED_NONE, 4 workers', policy: 'none', workers: 4, count: true }),
];

/**
 * Per-request balancing, the design's own answer to browser-like clients with
 * think time, after the common flags: every connection idle 100 ms parks (a
 * client thinking 0.2-1.5 s always does), and its next request goes to the
 * least-loaded worker instead of the one that happened to hold it. Measured
 * beside the defaults, which are the settings recommended for this workload
 * (a park → wake cycle costs more than it saves: docs/BENCHMARKS.md).
 */
export const THINK_BALANCING_ARGS: readonly string[] = ['--park-when', 'idle', '--park-after', '100'];

/** The think-time and overload parts' contenders, 2 workers each, in the order they alternate within a round (PM2 is added when installed). */
export const THINK_CONTENDERS: readonly { readonly name: ServerName; readonly start: () => Promise<Server> }[] = [
  { name: 'node:cluster', start: () => startNodeCluster({ app: THINK_APP }) },
  { name: 'rocket-cluster', start: () => startRocket({ app: THINK_APP, admin: false }) },
  { name: 'rocket-cluster, per-request balancing', start: () => startRocket({ name: 'rocket-cluster, per-request balancing', app: THINK_APP, admin: false, extraArgs: THINK_BALANCING_ARGS }) },
];
