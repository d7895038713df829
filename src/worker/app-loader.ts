import { pathToFileURL } from 'node:url';
import { RocketError } from '../shared/errors.js';
import type { ClaimableServer } from '../shared/node-internals/listen-intercept.js';
import type { FetchApp } from './fetch-adapter.js';
import type { RequestListener } from './request-guard.js';

/** The three shapes of app a worker can serve (README "App shapes"), with the module's exports (its shutdown hook, say). */
export type LoadedApp = (
  | { readonly kind: 'listener'; readonly listener: RequestListener }
  | { readonly kind: 'fetch'; readonly app: FetchApp }
  | { readonly kind: 'server'; readonly server: ClaimableServer }
) & { readonly exports: Readonly<Record<string, unknown>> };

/**
 * Imports the app and works out its shape. An app that calls `listen()` itself
 * (during import or later, after connecting to its database, say) wins over its
 * exports; otherwise the default export is a request listener or a fetch app.
 * `listened` resolves with the server whose listen() the worker intercepted.
 */
export async function loadApp(file: string, listened: Promise<ClaimableServer>, waitMs: number): Promise<LoadedApp> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new RocketError('RC_ERR_APP_LOAD', `cannot load app ${file}: ${cause}`, { cause: error });
  }
  const early = await Promise.race([listened, Promise.resolve(null)]);
  if (early) return { kind: 'server', server: early, exports: mod };
  const exported = mod.default;
  if (typeof exported === 'function') return { kind: 'listener', listener: exported as RequestListener, exports: mod };
  if (hasFetch(exported)) return { kind: 'fetch', app: { fetch: (r) => exported.fetch(r) }, exports: mod };
  if (hasFetch(mod)) return { kind: 'fetch', app: { fetch: (r) => (mod as unknown as FetchApp).fetch(r) }, exports: mod };
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([listened, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)))]);
  clearTimeout(timer);
  if (late) return { kind: 'server', server: late, exports: mod };
  throw new RocketError(
    'RC_ERR_APP_SHAPE',
    `app ${file} has nothing to serve: export default a request listener (req, res) => {...}, ` +
      `or an object with fetch(request), or call server.listen() (within ${waitMs} ms)`,
  );
}

function hasFetch(x: unknown): x is FetchApp {
  return typeof x === 'object' && x !== null && typeof (x as { fetch?: unknown }).fetch === 'function';
}
