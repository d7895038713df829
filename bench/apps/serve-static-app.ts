// The static part's baseline app: serve-static (the middleware Express uses)
// over BENCH_STATIC_DIR, as a request listener for cluster-server.js. What it
// does not find gets 404, as rocket-cluster --static without an app answers.
import type http from 'node:http';
import serveStatic from 'serve-static';

const dir = process.env.BENCH_STATIC_DIR;
if (dir === undefined) throw new Error('BENCH_STATIC_DIR is not set');
const serve = serveStatic(dir, { fallthrough: true });

export default function app(req: http.IncomingMessage, res: http.ServerResponse): void {
  serve(req, res, () => {
    res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
    res.end('Not Found\n');
  });
}
