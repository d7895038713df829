import { accessSync, constants, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from './children.js';
import type { Server, ServerName } from './servers.js';

// PM2 is not a dependency: the bench measures it only when a `pm2` binary is
// on PATH. It runs as `pm2-runtime` (PM2's foreground mode, the one for
// containers): its God process is the launched process itself, so the
// bench's process-tree measuring and stopping work as for the others, and no
// daemon outlives the run. PM2_HOME is a temporary directory, so that a PM2
// daemon the user runs is neither reached nor disturbed.

const START_TIMEOUT_MS = 20_000;
const PM2_APP_NAME = 'bench-think';

/** `pm2-runtime`'s script beside the `pm2` found on PATH (both are in PM2's bin/), or null when PM2 is not installed. */
export function findPm2Runtime(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const pm2 = path.join(dir, 'pm2');
    try {
      accessSync(pm2, constants.X_OK);
      const runtime = path.join(path.dirname(realpathSync(pm2)), 'pm2-runtime');
      accessSync(runtime, constants.R_OK);
      return runtime;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * PM2 cluster mode (`-i <workers>`, node:cluster underneath) running `script`,
 * a program that listens on PORT itself. Ready once /pid has answered from
 * `workers` different processes: PM2 says nothing machine-readable when its
 * workers listen. Its kind is node:cluster: the same primary-and-children tree.
 */
export async function startPm2(runtime: string, script: string, workers: number, name: ServerName = 'PM2 cluster'): Promise<Server> {
  const port = await freePort();
  const home = mkdtempSync(path.join(os.tmpdir(), 'rocket-bench-pm2-'));
  const envFile = path.join(home, 'bench.env');
  writeFileSync(envFile, `PM2_HOME=${home}\nPORT=${port}\n`);
  const proc = launch(name, [`--env-file=${envFile}`, runtime, 'start', script, '-i', String(workers), '--name', PM2_APP_NAME], {
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  });
  try {
    const url = `http://127.0.0.1:${port}/`;
    const seen = new Set<string>();
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (seen.size < workers) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${name}: exited; output: ${proc.otherOutput.slice(-10).join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`${name}: ${seen.size} of ${workers} workers answered within ${START_TIMEOUT_MS} ms; output: ${proc.otherOutput.slice(-10).join(' | ')}`);
      const pid = await getPid(`${url}pid`).catch(() => null);
      if (pid !== null) seen.add(pid);
      else await sleep(100);
    }
    proc.tree();
    // PM2 prints its start-up progress as plain lines ("PM2 log: App [..] online"),
    // which the bench would report as stray output; its errors say "PM2 error:".
    const startup = proc.otherOutput.filter((l) => !/^\S+: PM2 log: /.test(l));
    proc.otherOutput.splice(0, proc.otherOutput.length, ...startup);
    return { name, kind: 'node:cluster', url, process: proc, masterPid: proc.pid };
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

/** A port free now. Another process may take it before PM2 binds it; then the start fails and says so. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** One GET on a fresh connection (node:cluster deals connections, not requests, round-robin). */
async function getPid(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
