// A config file for examples/hello.mjs: `cd examples && rocket-cluster start`
// (or `rocket-cluster config` to see every value and where it came from).
// Flags and ROCKET_* variables override it: `ROCKET_WORKERS=1 rocket-cluster start --listen 127.0.0.1:9000`.
// Every option: docs/CONFIG.md.
export default {
  name: 'hello',
  app: './hello.mjs', // relative to this file
  listen: ['127.0.0.1:8080'],
  minWorkers: 1,
  maxWorkers: 4,
  admin: '127.0.0.1:9090', // GET /status
  keepAliveTimeout: 5000,
  logLevel: 'info',
};
