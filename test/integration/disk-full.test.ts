import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/shared/status-report.js';
import { onCleanup } from '../helpers/cleanup.js';
import { alive, fixture, launch, newHome } from '../helpers/cluster.js';
import { parsePrometheus } from '../helpers/prometheus.js';

const NAME = 'disk-full';

/** GET over a unix socket, on a connection of its own. */
function request(socketPath: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath, path: p, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('a full disk under the log file', () => {
  it("the workers' own log lines (with --log-dir, access lines) are dropped and counted in /status and /metrics; serving goes on in the same processes", async ({ annotate }) => {
    // The log file is /dev/full: every write fails with ENOSPC. Nothing goes to stdout with --log-dir, so the
    // cluster listens and serves /status on unix sockets known before it starts.
    const home = newHome();
    const logDir = path.join(home, 'logs');
    fs.mkdirSync(path.join(logDir, NAME), { recursive: true });
    fs.symlinkSync('/dev/full', path.join(logDir, NAME, `${NAME}.1.log`));
    const [appSocket, adminSocket] = [path.join(home, 'app.sock'), path.join(home, 'admin.sock')];
    const master = launch(
      ['start', fixture('faults-app.mjs'), '--name', NAME, '--workers', '1', '--listen', `unix:${appSocket}`, '--admin', `unix:${adminSocket}`, '--log-dir', logDir],
      { home },
    );
    onCleanup(() => master.stop());
    const status = async () => JSON.parse((await request(adminSocket, '/status')).body) as StatusReport;
    await expect.poll(() => status().then((s) => s.state, () => (master.child.exitCode === null ? null : `exited: ${master.stderr()}`)), { timeout: 15_000 }).toBe('running');
    const first = await status();
    const worker = first.workers[0]!.pid;

    // Each request is an access line the worker appends to the file itself; it flushes them every second.
    let served = 0;
    await expect
      .poll(async () => {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(appSocket, `/line/${i}`)));
        served += answers.filter((a) => a.status === 200).length;
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
        return (await status()).logs.droppedByWorkers ?? 0;
      }, { timeout: 15_000, interval: 200 })
      .toBeGreaterThan(0);
    const s = await status();
    expect(s.logs.dropped).toBeGreaterThanOrEqual(s.logs.droppedByWorkers!);
    expect(s.logs.written).toBe(0);
    const metrics = parsePrometheus((await request(adminSocket, '/metrics')).body);
    expect(metrics.get('rocket_cluster_log_lines_dropped_total')).toBeGreaterThanOrEqual(s.logs.droppedByWorkers!);
    await annotate(`${served} requests served, ${s.logs.droppedByWorkers} of the workers' lines and ${s.logs.dropped} in all dropped`);

    expect(s.workers.map((w) => w.pid)).toEqual([worker]);
    expect(s.restarts).toBe(0);
    expect(alive(master.pid)).toBe(true);
    expect((await request(appSocket, '/still-serving')).status).toBe(200);
    expect((await master.stop()).code).toBe(0);
  });
});
