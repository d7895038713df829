import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Api from '../../src/api/index.js';
import { onCleanup } from './cleanup.js';
import { alive, homeEnv, newHome } from './cluster.js';
import { ROOT } from './paths.js';

/**
 * The programmatic API as built in dist/ (`npm run build` first): it forks
 * dist/master/embedded-main.js, so it cannot run from the TypeScript sources.
 * Typed from the sources, so that `npm run typecheck` needs no build.
 */
export const api = (await import(pathToFileURL(path.join(ROOT, 'dist/api/index.js')).href)) as typeof Api;

/**
 * `startCluster` on 127.0.0.1 port 0, quiet, with a private HOME and
 * XDG_RUNTIME_DIR (its control socket meets no other test's). A cluster
 * still running when the test ends is stopped, or killed if its master is
 * wedged; a rejected start leaves nothing to clean.
 */
export function startApi(options: Partial<Api.ClusterOptions> & { app: string }, launch: Api.LaunchOptions = {}): Promise<Api.Cluster> {
  const home = newHome();
  const started = api.startCluster({ listen: ['127.0.0.1:0'], logLevel: 'silent', ...options }, { ...launch, env: { ...process.env, ...homeEnv(home), ...launch.env } });
  onCleanup(async () => {
    const cluster = await started.catch(() => null);
    if (!cluster || !alive(cluster.pid)) return;
    cluster.on('error', () => {});
    const timer = setTimeout(() => alive(cluster.pid) && process.kill(cluster.pid, 'SIGKILL'), 15_000);
    await cluster.stop().catch(() => undefined);
    clearTimeout(timer);
  });
  return started;
}
