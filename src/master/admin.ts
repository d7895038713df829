import http from 'node:http';
import type { ListenAddress } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { NativeHandle } from '../shared/node-internals/handles.js';
import { ClusterMetrics, type MetricsSources } from './cluster-metrics.js';
import { dashboardAsset } from './dashboard-assets.js';
import { masterAcceptFailed } from './descriptors.js';
import type { StatusReport } from '../shared/status-report.js';

/** Whether the cluster should get traffic now (`GET /readyz`), and if not, why. */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export interface AdminSources {
  status(): StatusReport;
  readiness(): Readiness;
  readonly metrics: ClusterMetrics;
}

/**
 * The optional admin listener. It runs in the master but serves only fixed
 * routes: `GET /status` (the cluster's state as JSON), `GET /metrics`
 * (Prometheus text), `GET /metrics.json` (the same as prom-client JSON, for
 * the dashboard), the live dashboard at `GET /` with its files, and the
 * orchestrators' probes: `GET /healthz` (200 while the master runs: liveness)
 * and `GET /readyz` (200 only while the cluster should get traffic, else 503
 * with the reason: readiness).
 */
export async function startAdmin(
  address: ListenAddress,
  from: MetricsSources & Pick<AdminSources, 'readiness'>,
  log: Logger,
  inherited?: NativeHandle,
): Promise<{ server: http.Server; url: string }> {
  const sources: AdminSources = { status: from.status, readiness: from.readiness, metrics: new ClusterMetrics(from) };
  const server = http.createServer((req, res) => {
    route(req, res, sources).catch((error: Error) => {
      if (res.headersSent) res.destroy();
      else send(res, 500, 'text/plain; charset=utf-8', `${error.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new RocketError('RC_ERR_LISTEN_BIND', `cannot listen on admin address: ${e.code ?? e.message}`)));
    // Inherited from the master this one upgrades: already listening, the same port.
    if (inherited) server.listen({ fd: (inherited as NativeHandle & { fd: number }).fd }, resolve);
    else if (address.kind === 'unix') server.listen(address.path, resolve);
    else server.listen(address.port, address.host, resolve);
  });
  // After listening, an accept error (EMFILE: libuv could not keep its spare descriptor for closing
  // surplus connections) is emitted as 'error' on the server: without a listener it would kill the master.
  server.removeAllListeners('error');
  server.on('error', (e: NodeJS.ErrnoException) => masterAcceptFailed(e.errno ?? 0));
  const a = server.address();
  const url = typeof a === 'string' || a === null ? `unix:${String(a)}` : `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  log.info({ address: url }, 'admin listening');
  return { server, url };
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, sources: AdminSources): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://admin').pathname;
  if (req.method !== 'GET') return send(res, 404, 'text/plain', 'not found\n');
  switch (path) {
    case '/healthz':
      // Answering at all is the proof: the master's event loop runs. Restarting a master that is stopping would cut its drain short.
      return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
    case '/readyz': {
      const r = sources.readiness();
      return r.ready ? send(res, 200, 'text/plain; charset=utf-8', 'ready\n') : send(res, 503, 'text/plain; charset=utf-8', `not ready: ${r.reason}\n`);
    }
    case '/status':
      return send(res, 200, 'application/json', JSON.stringify(sources.status()));
    case '/metrics': {
      const registry = await sources.metrics.collect();
      return send(res, 200, registry.contentType, await registry.metrics());
    }
    case '/metrics.json': {
      const registry = await sources.metrics.collect();
      return send(res, 200, 'application/json', JSON.stringify(await registry.getMetricsAsJSON()));
    }
  }
  const asset = await dashboardAsset(path);
  if (asset) return send(res, 200, asset.type, asset.body);
  send(res, 404, 'text/plain', 'not found\n');
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
