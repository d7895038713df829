import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonStart, DaemonToCli, StartOrigin } from '../shared/protocol.js';
import type { MasterReady } from '../shared/protocol.js';
import type { ClusterConfig } from '../shared/config.js';
import { RocketError, isErrorCode } from '../shared/errors.js';
import { SYSTEM_LOG_DIR, defaultLogDir } from '../shared/log-files.js';

export { SYSTEM_LOG_DIR, defaultLogDir } from '../shared/log-files.js';

const ENTRY = fileURLToPath(new URL('../master/daemon-main.js', import.meta.url));

/**
 * Starts a master detached from this terminal (its own session, no stdin) and
 * resolves once it listens, or rejects with why it could not start. Its log
 * lines go to rotated files in `<logDir>/<name>/`; anything written outside
 * the logger (a crash of the master itself) goes to `stderr.log` there.
 */
export async function startDaemon(config: ClusterConfig, origin: StartOrigin): Promise<MasterReady & { logDir: string }> {
  const logDir = config.logDir ?? defaultLogDir(undefined, config);
  const dir = path.join(logDir, config.name);
  let stderr: number;
  try {
    // The shared parent of --user daemons' logs must be traversable by each user; each cluster's own stays 0700.
    if (logDir === SYSTEM_LOG_DIR) fs.mkdirSync(logDir, { recursive: true, mode: 0o755 });
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    stderr = fs.openSync(path.join(dir, 'stderr.log'), 'a', 0o600);
  } catch (error) {
    throw new RocketError('RC_ERR_LOG_FILES', `--log-dir ${JSON.stringify(logDir)}: cannot write log files in ${dir}: ${(error as Error).message}`);
  }
  const child = spawn(process.execPath, [...process.execArgv, ENTRY], {
    detached: true,
    stdio: ['ignore', stderr, stderr, 'ipc'],
    serialization: 'json',
  });
  fs.closeSync(stderr);
  try {
    const answer = await new Promise<DaemonToCli>((resolve, reject) => {
      child.once('message', (m: DaemonToCli) => resolve(m));
      child.once('error', (e) => reject(new RocketError('RC_ERR_WORKER_START', `cannot start the daemon: ${e.message}`)));
      child.once('exit', (code, signal) =>
        reject(new RocketError('RC_ERR_WORKER_START', `the daemon exited before it was ready (code ${code}, signal ${signal}); see ${path.join(dir, 'stderr.log')}`)),
      );
      child.send({ config: { ...config, logDir }, origin } satisfies DaemonStart);
    });
    if (answer.t === 'failed') throw new RocketError(isErrorCode(answer.code) ? answer.code : 'RC_ERR_WORKER_START', answer.message);
    return { ...answer.ready, logDir: dir };
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
}
