import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig } from '../shared/config.js';
import type { ChildRole } from '../shared/child-env.js';
import { ENV } from '../shared/defaults.js';

const ENTRY: Record<ChildRole, string> = {
  worker: fileURLToPath(new URL('../worker/main.js', import.meta.url)),
  monitor: fileURLToPath(new URL('../monitor/main.js', import.meta.url)),
};

/**
 * The monitor allocates little (a message per park or wake) but lives long and
 * holds thousands of sockets: a 1 MB young generation keeps its RSS to what it
 * holds instead of up to tens of MB of short-lived garbage awaiting a scavenge.
 */
const EXEC_ARGV: Partial<Record<ChildRole, readonly string[]>> = {
  monitor: ['--max-semi-space-size=1'],
};

/** Takes a forked child's piped stdout and stderr (the master's log sink). */
export type ChildOutput = (child: ChildProcess, role: ChildRole, id: number) => void;

/**
 * Set once by runMaster: one master per process and every child link forks
 * through here, so the sink need not be passed down through the pool and the
 * parking relay. While unset (no sink yet), children share the master's
 * stdout and stderr.
 */
let childOutput: ChildOutput | null = null;

/** With --user: every child forked from now on runs as this uid and gid (set by runMaster, while the master is still root). */
let childIdentity: { readonly uid: number; readonly gid: number } | null = null;

/** Runs every child forked from now on as `identity` (libuv also drops its supplementary groups). */
export function runChildrenAs(identity: { readonly uid: number; readonly gid: number } | null): void {
  childIdentity = identity;
}

/** Pipes the stdout and stderr of every child forked from now on to `output`. */
export function routeChildOutput(output: ChildOutput | null): void {
  childOutput = output;
}

/**
 * Forks a child with its role, id and settings in its environment, and `env`
 * (what the app may read: a worker's slot). Its stdout and stderr are piped to
 * the master's log sink, which tags and merges every process's lines into one log.
 */
export function spawnChild(role: ChildRole, id: number, config: ClusterConfig, env: Readonly<Record<string, string>> = {}): ChildProcess {
  const output = childOutput;
  const app = role === 'worker' ? appRuntime(config) : { env: {}, nodeArgs: [] };
  const child = fork(ENTRY[role], [], {
    execArgv: [...process.execArgv, ...(EXEC_ARGV[role] ?? []), ...app.nodeArgs],
    // The app's env first: it may not override what the worker itself reads.
    env: { ...process.env, ...app.env, ...env, [ENV.role]: role, [ENV.id]: String(id), [ENV.config]: JSON.stringify(withoutSecrets(config)) },
    ...(app.cwd === undefined ? {} : { cwd: app.cwd }),
    stdio: output ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
    ...(childIdentity ? { uid: childIdentity.uid, gid: childIdentity.gid } : {}),
  });
  output?.(child, role, id);
  return child;
}

/**
 * What the app's process is started with (--cwd, --node-args, `env`): the
 * workers run the app, so they get them; the monitor and the master do not.
 * Its arguments (`args`) are set by the worker itself, as process.argv.
 */
function appRuntime(config: ClusterConfig): { env: Record<string, string>; nodeArgs: readonly string[]; cwd?: string } {
  const env = Object.fromEntries(Object.entries(config.env ?? {}).map(([name, value]) => [name, String(value)]));
  return { env, nodeArgs: config.nodeArgs ?? [], ...(config.cwd === undefined ? {} : { cwd: config.cwd }) };
}

/**
 * The settings a child reads from its environment, without the TLS key
 * passphrase: an environment is inherited by whatever the app spawns. Workers
 * get the passphrase with the key itself, over IPC (`tls` message).
 */
function withoutSecrets(config: ClusterConfig): ClusterConfig {
  const listen = config.listen.map((a) => (a.kind === 'tcp' && a.tls?.passphrase !== undefined ? { ...a, tls: { ...a.tls, passphrase: undefined } } : a));
  return { ...config, tlsPassphrase: undefined, listen };
}
