import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixture, startCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { get, post } from '../helpers/requests.js';

/**
 * Property: whatever way a sequence of requests is cut into pieces, and however
 * long the client pauses between pieces (so that connections park, wake and
 * travel between processes at every possible point), every response arrives in
 * order and matches its request byte for byte.
 *
 * The pauses are part of the generated input (the timing the client sends
 * with), not synchronisation: nothing is asserted about timing.
 */
const PARK_AFTER = 10;
const RUNS = Number(process.env.ROCKET_PROPERTY_RUNS ?? 500);

interface Req {
  readonly path: string;
  readonly body: Uint8Array | null;
}

const request = fc.record({
  path: fc.stringMatching(/^\/[a-z0-9]{1,12}$/),
  body: fc.option(fc.uint8Array({ minLength: 0, maxLength: 4096 }), { nil: null }),
});

const scenario = fc.record({
  requests: fc.array(request, { minLength: 1, maxLength: 4 }),
  // A park can only happen between requests, so half the cuts fall at or near a request boundary.
  cuts: fc.array(
    fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }).map((at) => ({ at, boundary: -1, offset: 0 })),
      fc.record({ at: fc.constant(0), boundary: fc.nat(3), offset: fc.integer({ min: -2, max: 2 }) }),
    ),
    { maxLength: 6 },
  ),
  pauses: fc.array(fc.constantFrom(0, 0, 1, 3, 15, 30), { minLength: 7, maxLength: 7 }),
});

function encode(r: Req): Buffer {
  return r.body === null ? Buffer.from(get(r.path)) : post(r.path, r.body);
}

const pause = (ms: number) => (ms === 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms)));

describe('byte-exact handoff under random splits and pauses', () => {
  it(`every response is in order and matches its request (${RUNS} cases)`, { timeout: 600_000 }, async () => {
    // One cluster for every case: the cases share it as real clients would.
    const cluster = await startCluster(fixture('echo.mjs'), ['--workers', '2', '--park-when', 'idle', '--park-after', String(PARK_AFTER), '--no-access-log']);
    await fc.assert(
      fc.asyncProperty(scenario, async ({ requests, cuts, pauses }) => {
        const encoded = requests.map(encode);
        const wire = Buffer.concat(encoded);
        const ends = encoded.map((_, i) => encoded.slice(0, i + 1).reduce((n, b) => n + b.length, 0));
        const offsets = cuts.map((c) => (c.boundary < 0 ? Math.floor(c.at * wire.length) : (ends[c.boundary % ends.length] as number) + c.offset));
        const points = [...new Set(offsets)].filter((p) => p > 0 && p < wire.length).sort((a, b) => a - b);
        const client = await RawClient.connect(cluster.port);
        try {
          let from = 0;
          for (const [i, to] of [...points, wire.length].entries()) {
            await pause(pauses[i] ?? 0);
            await client.write(wire.subarray(from, to));
            from = to;
          }
          const responses = await client.responses(requests.length);
          expect(responses).toHaveLength(requests.length);
          responses.forEach((res, i) => {
            const req = requests[i] as Req;
            const echo = JSON.parse(res.body) as { url: string; length: number; sha256: string };
            expect(res.status).toBe(200);
            expect(echo.url).toBe(req.path);
            const body = req.body ?? new Uint8Array();
            expect(echo.length).toBe(body.length);
            expect(echo.sha256).toBe(createHash('sha256').update(body).digest('hex'));
          });
        } finally {
          client.close();
        }
      }),
      { numRuns: RUNS },
    );
    // The property is only worth something if connections really moved.
    const { connections } = await cluster.status();
    expect(connections.parks).toBeGreaterThan(RUNS / 10);
    expect(connections.wakes).toBeGreaterThan(RUNS / 10);
  });
});
