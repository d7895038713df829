import http from 'node:http';
import type { ListenAddress } from '../shared/config.js';
import { RocketError } from '../shared/errors.js';
import type { StatusReport } from './status.js';

/**
 * The optional admin listener: `GET /status` answers the cluster's state as
 * JSON. It runs in the master but serves only these few fixed routes.
 */
export async function startAdmin(address: ListenAddress, status: () => StatusReport): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/status') {
      const body = JSON.stringify(status());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new RocketError('RC_ERR_LISTEN_BIND', `cannot listen on admin address: ${e.code ?? e.message}`)));
    if (address.kind === 'unix') server.listen(address.path, resolve);
    else server.listen(address.port, address.host, resolve);
  });
  const a = server.address();
  const url = typeof a === 'string' || a === null ? `unix:${String(a)}` : `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return { server, url };
}
