import type { CommandModule } from 'yargs';
import { appRequest, withAppOptions, type AppArgs } from '../../config/cli.js';
import { resolveApps, singleApp } from '../../config/resolve-apps.js';
import type { StartOrigin } from '../../shared/protocol.js';
import { runCommand, type SetCode } from '../exit.js';

type StartArgs = AppArgs & { daemon?: boolean };

/**
 * `rocket-cluster start [app]`: runs a cluster in the foreground until
 * SIGTERM/SIGINT (for containers and systemd), or with --daemon starts it
 * (every app of the config file when none is named) in the background and
 * returns once it listens.
 */
export function startCommand(setCode: SetCode): CommandModule<object, StartArgs> {
  return {
    command: 'start [app]',
    describe: 'Serve an app (and/or --static files) with a master, workers and a monitor: in the foreground, or detached with --daemon',
    builder: (y) =>
      withAppOptions(y)
        .option('daemon', {
          type: 'boolean',
          alias: 'd',
          describe: 'detach: return once the cluster listens, printing its name, pid and addresses; logs go to rotated files in --log-dir',
        })
        .example('$0 start app.js --workers 4 --listen 0.0.0.0:8080', 'serve app.js on port 8080 with 4 workers')
        .example('$0 start api', 'serve the app named api in rocket.config.mjs (docs/CONFIG.md)')
        .example('$0 start --daemon', 'start every app of rocket.config.mjs in the background')
        .example('$0 start --static ./public', 'a static file server: the files of ./public, no app (docs/STATIC.md)'),
    handler: (args) =>
      runCommand(setCode, async () => {
        // Config (file, ROCKET_* variables, flags) resolves before anything starts: a bad value exits 2.
        const resolved = await resolveApps(appRequest(args));
        // So are certificates and keys that cannot be used: exit 2 naming the file, before anything binds.
        const { preflight } = await import('../../master/preflight.js');
        for (const { config } of resolved.apps) preflight(config);
        // What a master upgrade resolves the new master's config from again (the file as it is then).
        const origin = startOrigin(args);
        // Loaded here, not at the top: every other command (and --help) stays quick to start.
        if (!args.daemon) {
          const { runMaster } = await import('../../master/main.js');
          const app = singleApp(resolved);
          // Under systemd socket activation, a --listen left to its default means: serve the sockets systemd passed.
          return runMaster(app.config, { listenGiven: app.sources.listen.kind !== 'default', origin });
        }
        const { startDaemon } = await import('../daemon.js');
        for (const { config } of resolved.apps) {
          const ready = await startDaemon(config, origin);
          process.stdout.write(
            [
              `started ${ready.name} (pid ${ready.pid})`,
              ...ready.addresses.map((a) => `  listening  ${a}`),
              ...(ready.admin ? [`  admin      ${ready.admin}`] : []),
              `  control    ${ready.control ?? '-'}`,
              `  logs       ${ready.logDir}`,
              '',
            ].join('\n'),
          );
        }
      }),
  };
}

/** The request `start` resolved its config from, as plain data: it crosses IPC to a daemon and to an upgrade's new master. */
function startOrigin(args: StartArgs): StartOrigin {
  const request = appRequest(args);
  const flags = Object.fromEntries(Object.entries(request.flags).filter(([key, value]) => key !== '_' && key !== '$0' && typeof value !== 'function'));
  return { ...request, flags, env: { ...request.env } };
}
