import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { alive, fixture, startCluster, type Cluster } from '../helpers/cluster.js';
import { parsePrometheus } from '../helpers/prometheus.js';
import { RawClient } from '../helpers/raw-client.js';
import { get } from '../helpers/requests.js';

const app = fixture('status-app.mjs');

/** One request on its own connection (`Connection: close`), so that connections spread over the workers. */
function request(cluster: Cluster, path: string): Promise<{ status: number; pid: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: cluster.port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, pid: (JSON.parse(body) as { pid: number }).pid }));
      })
      .on('error', reject);
  });
}

async function scrape(cluster: Cluster): Promise<{ type: string | null; samples: Map<string, number>; text: string }> {
  const res = await fetch(`${cluster.adminUrl}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { type: res.headers.get('content-type'), samples: parsePrometheus(text), text };
}

/** Raw GET on the admin listener: the path is sent exactly as given (fetch would normalize `..`). */
function adminGet(cluster: Cluster, path: string): Promise<{ status: number; type: string | undefined }> {
  const { hostname, port } = new URL(cluster.adminUrl);
  return new Promise((resolve, reject) => {
    http
      .get({ host: hostname, port, path, agent: false }, (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
      })
      .on('error', reject);
  });
}

describe('GET /metrics on the admin listener', () => {
  it('sums requests by status across workers exactly, with the histogram, default metrics and the cluster gauges', async () => {
    const cluster = await startCluster(app, ['--workers', '2', '--no-access-log', '--accept', 'master']);
    const paths = [...Array<string>(40).fill('/'), ...Array<string>(6).fill('/404'), ...Array<string>(4).fill('/500')];
    const pids = new Set<number>();
    for (const path of paths) pids.add((await request(cluster, path)).pid);
    expect(pids.size).toBe(2);

    const series = ['rocket_cluster_http_requests_total{code="200"}', 'rocket_cluster_http_requests_total{code="404"}', 'rocket_cluster_http_requests_total{code="500"}'];
    const count = 'rocket_cluster_http_request_duration_seconds_count';
    // A worker counts a request when its response has gone to the OS, which may be just after the client has it.
    await expect.poll(async () => {
      const { samples } = await scrape(cluster);
      return [...series, count].map((s) => samples.get(s));
    }, { timeout: 10_000 }).toEqual([40, 6, 4, 50]);

    const { type, samples, text } = await scrape(cluster);
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(samples.get('rocket_cluster_http_request_duration_seconds_bucket{le="+Inf"}')).toBe(50);
    expect(samples.get('rocket_cluster_http_request_duration_seconds_bucket{le="10"}')).toBe(50);
    expect(samples.get('rocket_cluster_http_request_duration_seconds_sum')).toBeGreaterThan(0);
    expect(text).toContain('# HELP rocket_cluster_http_requests_total ');

    // The workers' default metrics, summed over both processes; the master's under its own prefix.
    const workerMemory = [...samples].filter(([k]) => k.startsWith('rocket_cluster_worker_resident_memory_bytes{')).map(([, v]) => v);
    expect(workerMemory).toHaveLength(2);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(1.5 * Math.max(...workerMemory));
    expect(samples.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text.match(/^nodejs_version_info\{/gm)).toHaveLength(1);
    expect(samples.get('rocket_cluster_master_process_cpu_user_seconds_total')).toBeGreaterThan(0);

    expect(samples.get('rocket_cluster_workers{state="ready"}')).toBe(2);
    expect(samples.get('rocket_cluster_workers{state="draining"}')).toBe(0);
    expect(samples.get('rocket_cluster_queue_depth')).toBe(0);
    expect(samples.get('rocket_cluster_queue_oldest_wait_seconds')).toBe(0);
    expect(samples.get('rocket_cluster_parked_sockets')).toBe(0);
    expect(samples.get('rocket_cluster_connections_accepted_total')).toBe(50);
    expect(samples.get('rocket_cluster_handoffs_total{kind="dispatched"}')).toBe(50);
    expect(samples.get('rocket_cluster_connections_rejected_total')).toBe(0);
    expect(samples.get('rocket_cluster_worker_restarts_total')).toBe(0);
    expect(samples.get('rocket_cluster_scale_events_total{direction="grow"}')).toBe(0);
    expect(samples.get('rocket_cluster_metrics_workers_missed_total')).toBe(0);

    // The dashboard's JSON form holds the same numbers.
    const json = (await (await fetch(`${cluster.adminUrl}/metrics.json`)).json()) as { name: string; values: { value: number; labels: Record<string, string> }[] }[];
    const requests = json.find((m) => m.name === 'rocket_cluster_http_requests_total');
    expect(requests?.values.map((v) => [String(v.labels.code), v.value]).sort()).toEqual([['200', 40], ['404', 6], ['500', 4]]);
  });

  it('counts parked and woken handoffs and shows the parked socket', async () => {
    const cluster = await startCluster(app, ['--workers', '1', '--park-when', 'idle', '--park-after', '150', '--no-access-log', '--accept', 'master']);
    const client = await RawClient.connect(cluster.port);
    await client.write(get('/'));
    await client.responses(1);
    await expect.poll(async () => (await scrape(cluster)).samples.get('rocket_cluster_parked_sockets'), { timeout: 10_000 }).toBe(1);
    await client.write(get('/404'));
    expect((await client.responses(2))[1]?.status).toBe(404);
    const { samples } = await scrape(cluster);
    expect(samples.get('rocket_cluster_handoffs_total{kind="parked"}')).toBe(1);
    expect(samples.get('rocket_cluster_handoffs_total{kind="woken"}')).toBe(1);
    expect(samples.get('rocket_cluster_handoffs_total{kind="dispatched"}')).toBe(2);
    client.close();
  });

  it('a worker that does not answer counts with its last answer and as missed; one killed during a scrape does not break it', async () => {
    const cluster = await startCluster(app, ['--workers', '2', '--no-access-log']);
    for (let i = 0; i < 10; i++) await request(cluster, '/');
    const [hung, other] = (await cluster.status()).workers.map((w) => w.pid!) as [number, number];
    const ok = 'rocket_cluster_http_requests_total{code="200"}';
    expect((await scrape(cluster)).samples.get(ok)).toBe(10);
    process.kill(hung, 'SIGSTOP');
    try {
      const started = Date.now();
      const { samples } = await scrape(cluster);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(samples.get('rocket_cluster_metrics_workers_missed_total')).toBe(1);
      expect(samples.get(ok)).toBe(10); // the silent worker counts with its last answer: no sum goes down
      expect(samples.get('rocket_cluster_workers{state="ready"}')).toBe(2);
      expect(samples.get('process_cpu_user_seconds_total')).toBeGreaterThan(0); // the other worker's

      // The scrape waits for the stopped worker; it dies meanwhile.
      const during = scrape(cluster);
      process.kill(hung, 'SIGKILL');
      const answered = await during;
      expect(answered.samples.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    } finally {
      if (alive(hung)) process.kill(hung, 'SIGKILL');
    }
    await expect.poll(async () => (await scrape(cluster)).samples.get('rocket_cluster_workers{state="ready"}'), { timeout: 10_000 }).toBe(2);
    const { samples } = await scrape(cluster);
    expect(samples.get('rocket_cluster_worker_restarts_total')).toBe(1);
    expect((await cluster.status()).workers.map((w) => w.pid)).toContain(other);
  });

  it("a worker's counts outlive it: the cluster's totals do not go down when it exits", async () => {
    const cluster = await startCluster(app, ['--workers', '2', '--no-access-log']);
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) pids.add((await request(cluster, i % 5 === 0 ? '/404' : '/')).pid);
    expect(pids.size).toBe(2);
    const counts = async () => {
      const { samples } = await scrape(cluster);
      return ['rocket_cluster_http_requests_total{code="200"}', 'rocket_cluster_http_requests_total{code="404"}', 'rocket_cluster_http_request_duration_seconds_count'].map((s) => samples.get(s));
    };
    await expect.poll(counts, { timeout: 10_000 }).toEqual([16, 4, 20]);
    const [victim] = [...pids] as [number];
    process.kill(victim, 'SIGKILL');
    await expect.poll(async () => (await cluster.status()).workers.filter((w) => w.state === 'ready' && w.pid !== victim).length, { timeout: 10_000 }).toBe(2);
    expect(await counts()).toEqual([16, 4, 20]);
    await request(cluster, '/');
    await request(cluster, '/');
    await expect.poll(counts, { timeout: 10_000 }).toEqual([18, 4, 22]);
  });

  it('the admin listener serves the dashboard by fixed routes only', async () => {
    const cluster = await startCluster(app, ['--workers', '1', '--no-access-log']);
    expect(await adminGet(cluster, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect(await adminGet(cluster, '/dashboard.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await adminGet(cluster, '/vendor/uPlot.iife.min.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    for (const path of ['/index.html', '/../package.json', '/vendor/../../package.json', '/vendor/..%2F..%2Fpackage.json', '/src/dashboard/index.html', '/vendor/uPlot.cjs.js']) {
      expect((await adminGet(cluster, path)).status, path).toBe(404);
    }
  });
});
