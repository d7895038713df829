import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig } from '../shared/config.js';
import { RocketError, isErrorCode } from '../shared/errors.js';
import { defaultLogDir } from '../shared/log-files.js';
import type { ApiToMaster, DaemonToCli, MasterToApi } from '../shared/protocol.js';
import { ClusterHandle, type Cluster, type ClusterExit } from './cluster-handle.js';
import { resolveOptions, type ClusterOptions, type LaunchOptions } from './options.js';

const ENTRY = fileURLToPath(new URL('../master/embedded-main.js', import.meta.url));

/**
 * Starts a cluster (master, workers, monitor) serving `options.app`, and
 * resolves once every address is bound and `minWorkers` workers are ready,
 * with a handle to manage it; or rejects with a RocketError: the option's
 * (RC_ERR_CONFIG_INVALID, as the CLI's), or why it could not start
 * (RC_ERR_WORKER_START for an app that throws, RC_ERR_LISTEN_BIND, …), with
 * every process it started gone.
 *
 * The master is a child process of the caller, not the caller itself: it
 * needs its own signals, exit and event loop (it must survive the caller's
 * app code, as it survives the workers'). It runs in its own session, so
 * signals are the caller's to handle; unless `detached`, it stops gracefully
 * when the caller's process exits, however it exits (its IPC channel closes).
 */
export async function startCluster(options: ClusterOptions, launch: LaunchOptions = {}): Promise<Cluster> {
  const detached = launch.detached ?? false;
  const env = launch.env ?? process.env;
  let config = resolveOptions(options);
  let stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc'];
  if (detached) {
    // As `start --daemon`: no terminal to write to once the caller is gone, so the cluster's logs go to files.
    const logDir = config.logDir ?? defaultLogDir(env.HOME && path.isAbsolute(env.HOME) ? env.HOME : undefined, config);
    config = { ...config, logDir };
    const stderr = openStderrLog({ ...config, logDir });
    stdio = ['ignore', stderr, stderr, 'ipc'];
  }
  // `detached` here is setsid: the master's own session, out of reach of the caller's terminal signals (Ctrl-C).
  const child = spawn(process.execPath, [...(launch.execArgv ?? []), ENTRY], { detached: true, stdio, env, serialization: 'json' });
  if (typeof stdio[1] === 'number') fs.closeSync(stdio[1]);
  // Not events.once: that would reject on the child's 'error' (a failed spawn), which the start reports below.
  const exited = new Promise<ClusterExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const answer = await new Promise<DaemonToCli>((resolve, reject) => {
    child.on('message', (m: MasterToApi) => {
      if (m.t === 'ready' || m.t === 'failed') resolve(m);
    });
    child.once('error', (e) => reject(new RocketError('RC_ERR_WORKER_START', `cannot start the master: ${e.message}`)));
    void exited.then((e) => reject(new RocketError('RC_ERR_WORKER_START', `the master exited before it was ready (code ${e.code}, signal ${e.signal})`)));
    child.send({ t: 'start', config, detached } satisfies ApiToMaster);
  });
  if (answer.t === 'failed') {
    // Everything it started is stopped already; it exits on its own once its last message is out.
    await exited;
    throw new RocketError(isErrorCode(answer.code) ? answer.code : 'RC_ERR_WORKER_START', answer.message);
  }
  child.removeAllListeners('message');
  const handle = new ClusterHandle(child, answer.ready, detached, exited);
  if (detached) {
    // The caller's event loop may end while the cluster runs on; events still arrive while it lives.
    child.unref();
    child.channel?.unref();
  }
  return handle;
}

/** A detached master's stdout and stderr: `<logDir>/<name>/stderr.log`, for what it writes outside its logger (a crash). */
function openStderrLog(config: ClusterConfig & { logDir: string }): number {
  const dir = path.join(config.logDir, config.name);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return fs.openSync(path.join(dir, 'stderr.log'), 'a', 0o600);
  } catch (error) {
    throw new RocketError('RC_ERR_LOG_FILES', `logDir ${JSON.stringify(config.logDir)}: cannot write log files in ${dir}: ${(error as Error).message}`);
  }
}
