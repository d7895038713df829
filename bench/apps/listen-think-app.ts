// think-app.ts as a script that listens itself, for PM2 cluster mode (which
// runs a script, not a request listener): Node's default server settings, as
// serve-app.ts uses for the node:cluster baseline. PORT comes from the
// environment; PM2's cluster workers share it through node:cluster.
import http from 'node:http';
import thinkApp from './think-app.js';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error(`listen-think-app: PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
http.createServer(thinkApp).listen(port, '127.0.0.1');
