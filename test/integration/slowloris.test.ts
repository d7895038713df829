import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup } from '../helpers/cleanup.js';
import { fixture, newHome, startCluster } from '../helpers/cluster.js';
import { readRecords } from '../helpers/malformed.js';
import { pacedClients, slowFlood } from '../helpers/slowloris.js';

const HEADERS_TIMEOUT = 2000;
const SLOW_CLIENTS = 500;
const DRIP_MS = 1000;

/**
 * The issue asks that each slow client be closed with a 408 within
 * --headers-timeout + 1 s (Node checks every --timeout-check-interval, 1 s
 * by default) while normal clients keep being served. Tests here assert the
 * behaviour (408, closed, normal clients all 200); the close times and the
 * normal clients' latency are measured by bench/slowloris.ts and written
 * down in docs/RELIABILITY.md, not asserted: a shared 2-core machine makes
 * any time bound in a test a coin toss.
 */
describe('slowloris', () => {
  it(`closes each of ${SLOW_CLIENTS} connections that drip a request head with a 408, while normal clients get 200`, async () => {
    const recordFile = path.join(newHome(), 'records.jsonl');
    fs.writeFileSync(recordFile, '');
    const cluster = await startCluster(fixture('record-app.mjs'), ['--workers', '2', '--headers-timeout', String(HEADERS_TIMEOUT), '--no-access-log'], {
      env: { RECORD_FILE: recordFile },
    });
    // Each drips a head that never ends; 3 bytes or so reach the server before its 408.
    const flood = await slowFlood(cluster.port, SLOW_CLIENTS, (i) => `GET /slowloris/${i} HTTP/1.1\r\nHost: t\r\nX-Drip: ${'a'.repeat(200)}`, DRIP_MS);
    onCleanup(() => flood.stop());
    expect(flood.clients.filter((c) => c.error !== null).map((c) => c.error)).toEqual([]);
    // New connections, one request each: what a slowloris attack takes away if it can.
    const normal = pacedClients(cluster.port, 4, 20, '/normal', false);
    onCleanup(() => normal.stop());

    await expect.poll(() => flood.clients.filter((c) => c.closedAt === null).length, { timeout: HEADERS_TIMEOUT + 30_000, interval: 100 }).toBe(0);
    await normal.stop();

    const answers = flood.clients.map((c) => c.received.split('\r\n')[0]);
    expect(answers.filter((a) => a !== 'HTTP/1.1 408 Request Timeout')).toEqual([]);
    // The normal clients were served while the slow ones held their connections, and every one got 200.
    const firstSlowClose = Math.min(...flood.clients.map((c) => c.closedAt!));
    expect(normal.results.filter((r) => r.at < firstSlowClose).length).toBeGreaterThan(0);
    expect(normal.results.filter((r) => r.status !== 200)).toEqual([]);
    // No slow request reached the app; the normal ones did.
    const records = readRecords(recordFile);
    expect(records.filter((r) => r.url.startsWith('/slowloris/'))).toEqual([]);
    expect(records.filter((r) => r.url === '/normal' && r.event === 'complete').length).toBe(normal.results.length);
  }, 60_000);
});
