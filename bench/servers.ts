import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, type Launched } from './children.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root, from dist-bench/bench/. */
export const ROOT = path.resolve(HERE, '../..');
export const HELLO_APP = path.join(ROOT, 'examples/hello.mjs');
export const BIN = path.join(ROOT, 'bin/rocket-cluster');
const START_TIMEOUT_MS = 20_000;

export type ServerName = 'rocket-cluster' | 'node:cluster' | 'single process';

/** A running contender: where to send load, and the process tree to measure and stop. */
export interface Server {
  readonly name: ServerName;
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly process: Launched;
  /** rocket-cluster only: the admin listener's base URL. */
  readonly adminUrl?: string;
  /**
   * The process that reloads on SIGHUP: rocket-cluster's master (the pid in
   * its `"role":"master"` lines), node:cluster's primary.
   */
  readonly masterPid: number;
}

const isListening = (l: { msg?: string }): boolean => l.msg === 'listening';

/**
 * rocket-cluster through its real CLI, 2 workers unless `poolArgs` says otherwise. `info` is the lowest level
 * that still logs the bound addresses; the access log is off so that, like the
 * baselines, no process writes a line per request.
 */
export async function startRocket(extraArgs: readonly string[] = [], poolArgs: readonly string[] = ['--workers', '2']): Promise<Server> {
  const proc = launch('rocket-cluster', [
    BIN, 'start', HELLO_APP, ...poolArgs, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
    '--no-access-log', '--log-level', 'info', '--shutdown-timeout', '3000', ...extraArgs,
  ]);
  try {
    const [listening, admin] = await Promise.all([
      proc.waitForLine((l) => l.role === 'master' && isListening(l), START_TIMEOUT_MS),
      proc.waitForLine((l) => l.msg === 'admin listening', START_TIMEOUT_MS),
    ]);
    proc.tree();
    const masterPid = typeof listening.pid === 'number' ? listening.pid : proc.pid;
    return { name: 'rocket-cluster', url: `http://${String(listening.address)}/`, process: proc, adminUrl: String(admin.address), masterPid };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

export async function startNodeCluster(): Promise<Server> {
  return startScript('node:cluster', [path.join(HERE, 'cluster-server.js'), HELLO_APP, '2']);
}

export async function startSingle(): Promise<Server> {
  return startScript('single process', [path.join(HERE, 'single-server.js'), HELLO_APP]);
}

async function startScript(name: ServerName, args: readonly string[]): Promise<Server> {
  const proc = launch(name, args);
  try {
    const line = await proc.waitForLine(isListening, START_TIMEOUT_MS);
    proc.tree();
    return { name, url: `http://${String(line.address)}/`, process: proc, masterPid: proc.pid };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}
