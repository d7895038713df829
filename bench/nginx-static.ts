// The static part's nginx contender: nginx (2 worker processes, as the node
// contenders have 2 workers) serving one directory, run unprivileged with a
// temporary prefix and config, as bench/behind-nginx.ts does. Usage:
//   node nginx-static.js <dir>
// Prints {"msg":"listening","address":"127.0.0.1:PORT"} once nginx answers,
// and stops nginx (SIGQUIT, then SIGKILL) on SIGTERM or SIGINT; nginx runs as
// this process's child, so the bench measures and stops it with the tree.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const START_TIMEOUT_MS = 15_000;
const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: nginx-static.js <dir>');

const prefix = mkdtempSync(path.join(os.tmpdir(), 'rocket-nginx-static-'));
const port = await freePort();
// As root the workers run as www-data, as a packaged nginx does (the bench makes the directory world-readable).
const user = process.getuid?.() === 0 ? 'user www-data www-data;\n' : '';
// nginx's defaults but for sendfile (on in every packaged nginx.conf) and keepalive_requests, which
// would otherwise close a connection every 1000 requests where Node never does.
writeFileSync(
  path.join(prefix, 'nginx.conf'),
  `${user}worker_processes 2;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server { listen 127.0.0.1:${port}; root ${dir}; }
}
`,
);
const child = spawn(NGINX, ['-c', path.join(prefix, 'nginx.conf'), '-p', prefix], { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = (): void => {
  child.kill('SIGQUIT');
  const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
  child.once('exit', () => {
    clearTimeout(kill);
    rmSync(prefix, { recursive: true, force: true });
    process.exit(0);
  });
};
process.once('SIGTERM', stop).once('SIGINT', stop);
child.once('exit', (code) => {
  if (code !== 0) process.stderr.write(`nginx exited ${code}\n`);
});

const deadline = Date.now() + START_TIMEOUT_MS;
for (;;) {
  if (child.exitCode !== null) process.exit(1);
  const up = await fetch(`http://127.0.0.1:${port}/`).then(async (r) => (await r.arrayBuffer(), true), () => false);
  if (up) break;
  if (Date.now() >= deadline) {
    process.stderr.write('nginx did not answer in time\n');
    stop();
    break;
  }
  await sleep(100);
}
process.stdout.write(`${JSON.stringify({ msg: 'listening', address: `127.0.0.1:${port}` })}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
}
