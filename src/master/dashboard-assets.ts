import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

// From dist/master/ (and src/master/) the package root is two levels up;
// src/dashboard/ is shipped as is ("files" in package.json): it has no build step.
const dashboard = (name: string) => fileURLToPath(new URL(`../../src/dashboard/${name}`, import.meta.url));
const require = createRequire(import.meta.url);

/** Every file the admin listener serves, by fixed route: nothing from a URL becomes a path. */
const ROUTES = new Map<string, { readonly file: () => string; readonly type: string }>([
  ['/', { file: () => dashboard('index.html'), type: 'text/html; charset=utf-8' }],
  ['/dashboard.js', { file: () => dashboard('dashboard.js'), type: 'text/javascript; charset=utf-8' }],
  ['/dashboard.css', { file: () => dashboard('dashboard.css'), type: 'text/css; charset=utf-8' }],
  ['/vendor/uPlot.iife.min.js', { file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' }],
  ['/vendor/uPlot.min.css', { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' }],
]);

const cache = new Map<string, Asset>();

/** The dashboard file served at `path`, read once; null for any other path. */
export async function dashboardAsset(path: string): Promise<Asset | null> {
  const route = ROUTES.get(path);
  if (!route) return null;
  let asset = cache.get(path);
  if (!asset) {
    asset = { body: await readFile(route.file()), type: route.type };
    cache.set(path, asset);
  }
  return asset;
}
