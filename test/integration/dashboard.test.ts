import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';
import { keepAliveLoad } from '../helpers/load.js';
import { ROOT } from '../helpers/paths.js';

// Debian's chromium; .ci/run installs it. Missing on a developer's machine the
// test is skipped, but never in CI.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * The README's picture. Rewritten only when missing or asked for
 * (UPDATE_DASHBOARD_PNG=1), so that running the tests leaves the tree clean.
 */
const SCREENSHOT = path.join(ROOT, 'docs/dashboard.png');
/** Idle keep-alive connections opened so that the parked-sockets chart has something to show. */
const IDLE_CONNECTIONS = 12;

/** The raw number a dashboard tile shows (its data-value). */
async function tile(page: Page, testid: string): Promise<number> {
  return Number(await page.getByTestId(testid).getAttribute('data-value'));
}

async function samples(page: Page): Promise<number> {
  // A string: the test project has no DOM types.
  return Number(await page.evaluate('document.body.dataset.samples ?? 0'));
}

/** `n` keep-alive connections that each send one request and then stay idle (and park). */
async function idleConnections(port: number, n: number): Promise<http.Agent> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n });
  await Promise.all(
    Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
    })),
  );
  return agent;
}

describe.skipIf(!fs.existsSync(CHROMIUM) && !process.env.CI)('the live dashboard in headless Chromium', () => {
  it('shows the real workers, and its numbers and charts move under load', { timeout: 90_000 }, async () => {
    const cluster = await startCluster(fixture('status-app.mjs'), ['--workers', '2', '--no-access-log', '--park-when', 'idle', '--park-after', '300', '--keep-alive-timeout', '120000']);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(cluster.adminUrl);

    const pids = (await cluster.status()).workers.map((w) => String(w.pid)).sort();
    const shownPids = () => page.getByTestId('worker-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pid') ?? '').sort());
    await expect.poll(shownPids, { timeout: 15_000 }).toEqual(pids);
    await expect.poll(() => tile(page, 'workers'), { timeout: 15_000 }).toBe(2);
    const servedBefore = await tile(page, 'requests-total');

    const idle = await idleConnections(cluster.port, IDLE_CONNECTIONS);
    // Fast requests for the rate, slow ones for a latency spread on the chart.
    const loads = [keepAliveLoad(cluster.port, 6), keepAliveLoad(cluster.port, 4, '/slow')];
    try {
      const loadedFrom = await samples(page);
      await expect.poll(() => tile(page, 'parked'), { timeout: 20_000 }).toBe(IDLE_CONNECTIONS);
      await expect.poll(() => tile(page, 'req-rate'), { timeout: 20_000 }).toBeGreaterThan(100);
      await expect.poll(() => tile(page, 'requests-total'), { timeout: 20_000 }).toBeGreaterThan(servedBefore + 1000);
      // p99 of the last second, in seconds: the slow requests' 0-40 ms, not a placeholder.
      await expect.poll(() => tile(page, 'latency'), { timeout: 20_000 }).toBeGreaterThan(0.005);
      // Enough seconds of load on the charts for the screenshot the README shows.
      await expect.poll(() => samples(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(loadedFrom + 15);
      const png = await page.screenshot({ fullPage: true });
      expect(png.length).toBeGreaterThan(10_000);
      if (process.env.UPDATE_DASHBOARD_PNG || !fs.existsSync(SCREENSHOT)) fs.writeFileSync(SCREENSHOT, png);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
      idle.destroy();
    }
    expect(loads.flatMap((l) => l.counts.errors)).toEqual([]);
    expect(await shownPids()).toEqual(pids);
    expect(pageErrors).toEqual([]);
  });
});
