import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Shared by the two baseline servers (single process, node:cluster worker):
 * loads the same default-export `(req, res)` app that rocket-cluster serves
 * and listens on 127.0.0.1 with Node's default server settings, so the only
 * difference between the contenders is how connections reach the app.
 * `onRequest` (optional) runs for every request, after the app.
 */
export async function serveApp(appPath: string, onRequest?: () => void): Promise<AddressInfo> {
  const mod = (await import(pathToFileURL(path.resolve(appPath)).href)) as { default?: unknown };
  if (typeof mod.default !== 'function') throw new Error(`${appPath}: default export is not a request listener`);
  const server = http.createServer(mod.default as http.RequestListener);
  if (onRequest) server.on('request', onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server.address() as AddressInfo;
}

/** The one line the bench's launcher waits for, in the shape rocket-cluster's master logs. */
export function announce(address: AddressInfo): void {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', address: `${address.address}:${address.port}` })}\n`);
}
