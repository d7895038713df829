import { exitWithParent, ignoreMasterSignals, readChildEnv } from '../shared/child-env.js';
import { RocketError } from '../shared/errors.js';
import { clusterLogFiles } from '../shared/log-files.js';
import { createChildLog, flushLogs, followLogFile } from '../shared/child-log.js';
import { interceptListen, type ClaimableServer } from '../shared/node-internals/listen-intercept.js';
import { loadApp, type LoadedApp } from './app-loader.js';
import { fetchListener } from './fetch-adapter.js';
import { guardListener, guardServerEmit } from './request-guard.js';
import { ShutdownHooks } from './shutdown-hooks.js';
import { staticOnlyApp } from './static-hook.js';
import { WorkerRuntime } from './worker.js';

// A worker process (entered through main.ts): load the user's app, then serve what the master sends.
const START_MARGIN_MS = 250;
const { id, config } = readChildEnv('worker');
const log = createChildLog('worker', config.logLevel, { worker: id });
// Named in the hook's log lines: the app module, or the static mounts of a static-only server.
const hooks = new ShutdownHooks(config.app ?? 'static files', log);
const runtime = new WorkerRuntime(id, config, log, hooks);
// With --log-dir this worker appends its own lines (access lines above all) to
// the cluster's file itself, rather than sending each through the master.
const logFiles = clusterLogFiles(config);
if (logFiles) followLogFile(logFiles.link, log);

exitWithParent(() => runtime.drain('master gone'));
ignoreMasterSignals();
// Ctrl-C in a terminal and systemd's default KillMode signal the whole process
// group: finish in-flight requests as on the master's shutdown, do not die mid-response.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => runtime.drain(signal, undefined, signal));
// The app's own SIGINT/SIGTERM listeners run after the drain, as its shutdown hook (shutdown-hooks.ts).
hooks.divertSignalListeners();
process.on('uncaughtException', (error) => {
  // The app's state is unknown after this; the master starts a fresh worker.
  log.fatal({ err: error }, 'uncaught exception in app: worker exits');
  process.exit(1);
});
process.on('unhandledRejection', (reason) => {
  log.error({ err: reason }, 'unhandled promise rejection in app');
});

let claimed = false;
const listened = new Promise<ClaimableServer>((resolve) => {
  interceptListen((server, callback) => {
    if (claimed) return false;
    claimed = true;
    guardServerEmit(log, server);
    runtime.attach(server, callback);
    resolve(server);
    return true;
  });
});

// The master's start timer began before this process existed; answering a bit
// before it fires lets the operator see why (RC_ERR_APP_SHAPE), not just a timeout.
const listenWait = Math.max(0, config.startTimeout - process.uptime() * 1000 - START_MARGIN_MS);

// The app sees itself as the script Node ran, with its own arguments (`args`): node app.js a b.
if (config.app !== undefined) process.argv.splice(1, Infinity, config.app, ...(config.args ?? []));
try {
  const app = config.app === undefined ? staticOnly() : await loadApp(config.app, listened, listenWait);
  hooks.useExports(app.exports);
  if (app.kind !== 'server') {
    const listener = app.kind === 'listener' ? app.listener : fetchListener(app.app);
    const { createServer } = await import('node:http');
    runtime.attach(createServer(guardListener(log, listener)));
  }
  log.debug({ shape: app.kind }, 'app loaded');
  await runtime.ready();
} catch (error) {
  const e = error instanceof RocketError ? error : new RocketError('RC_ERR_APP_LOAD', String(error));
  log.error({ code: e.code }, e.message);
  flushLogs(); // the master may kill this process as soon as it reads the next message
  runtime.fatal(e.code, e.message);
  setImmediate(() => process.exit(1));
}

/** A static file server (`--static` and no app): the "app" answers what names no file. */
function staticOnly(): LoadedApp {
  if (runtime.staticFiles === null) throw new RocketError('RC_ERR_APP_LOAD', 'no app and no --static directory'); // resolveConfig refuses this
  return { kind: 'listener', listener: staticOnlyApp(runtime.staticFiles), exports: {} };
}
