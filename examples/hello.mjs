// The smallest app rocket-cluster serves: a default-exported request listener.
export default function hello(req, res) {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`Hello from worker ${process.pid}\n`);
}
