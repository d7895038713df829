import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, newHome, parkedAndHeld, startCluster, type Cluster } from '../helpers/cluster.js';
import {
  expectedIn,
  gluedPath,
  gluedRequest,
  handlerOutcome,
  inBatches,
  loadCorpus,
  oneOf,
  readRecords,
  sendCase,
  toBytes,
  unsettled,
  type MalformedCase,
  type Mode,
  type AppRecord,
  type Wire,
} from '../helpers/malformed.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * The malformed and smuggling corpus (test/fixtures/malformed/cases.json,
 * summed up in docs/RELIABILITY.md), each case sent three ways to one
 * cluster: on a fresh connection, one byte per write, and on a keep-alive
 * connection right after it came back from the monitor. Behind every case
 * the same write carries a valid request (`/glued/<id>/<mode>`), which must
 * reach the app only when the case itself is a valid request. The app
 * (record-app.mjs) writes down every request its handler sees.
 */

const MAX_HEADER_SIZE = 4096;
/** Cases sent at once: enough to overlap the waits, few enough for a 2-core machine shared with the cluster. */
const BATCH = 12;
/**
 * Byte by byte, one case at a time: a client still writing when the server
 * answers 400 and closes draws a reset, and the more clients share this
 * process the longer it takes to see the answer before its next write.
 * A case whose answer a reset still beat (the wire shows no response and a
 * failed write) is sent again, up to this many times in all.
 */
const BYTEWISE_ATTEMPTS = 3;
/** Only a case that does not get its answer waits this long (the test then fails). */
const CASE_TIMEOUT_MS = 15_000;
const MODES: readonly Mode[] = ['fresh', 'bytewise', 'parked'];

const corpus = loadCorpus();
let cluster: Cluster;
let recordFile: string;

beforeAll(async () => {
  recordFile = path.join(newHome(), 'records.jsonl');
  fs.writeFileSync(recordFile, '');
  cluster = await startCluster(fixture('record-app.mjs'), [
    '--workers', '2',
    // Every connection idle 100 ms parks, so mode `parked` finds its connection in the monitor.
    '--park-when', 'idle',
    '--park-after', '100',
    '--keep-alive-timeout', '30000',
    '--max-header-size', String(MAX_HEADER_SIZE),
    // A case the parser keeps waiting on would get a 408 soon rather than hang the batch.
    '--headers-timeout', '5000',
    '--timeout-check-interval', '250',
    '--no-access-log',
  ], { env: { RECORD_FILE: recordFile } });
});

interface Sent {
  readonly c: MalformedCase;
  readonly wire: Wire;
  /** Times it was sent (more than once only byte by byte, when a reset beat the answer). */
  readonly attempts: number;
}

/** Sends the case with its glued request on `client`, and waits for as much of an answer as the corpus expects. */
function send(c: MalformedCase, client: RawClient, mode: Mode, skip: number): Promise<Wire> {
  const exp = expectedIn(c, mode);
  const bytes = Buffer.concat([toBytes(c.request), Buffer.from(gluedRequest(c, mode), 'latin1')]);
  const served = oneOf(exp.glued, 'served');
  return sendCase(client, bytes, {
    bytewise: mode === 'bytewise',
    responses: exp.status === 'none' ? 0 : served ? 2 : 1,
    closes: !served,
    skip,
    timeoutMs: CASE_TIMEOUT_MS,
  });
}

async function sendOnNewConnection(c: MalformedCase, mode: Mode, attempts = 1, attempt = 1): Promise<Sent> {
  const client = await RawClient.connect(cluster.port);
  let wire: Wire;
  try {
    wire = await send(c, client, mode, 0);
  } finally {
    client.close();
  }
  const lostToReset = wire.reset && wire.statuses.length === 0;
  return lostToReset && attempt < attempts ? sendOnNewConnection(c, mode, attempts, attempt + 1) : { c, wire, attempts: attempt };
}

/**
 * Each connection of the batch makes one good request and goes idle; once the
 * monitor holds all of them (and nothing else), each sends its case: the
 * bytes wake it in the monitor, travel back through the master and are
 * replayed in a worker.
 */
async function sendAfterPark(batch: readonly MalformedCase[]): Promise<Sent[]> {
  await expect.poll(async () => (await cluster.status()).parked.count, { timeout: 10_000, interval: 50 }).toBe(0);
  const clients = await Promise.all(batch.map(() => RawClient.connect(cluster.port)));
  try {
    await Promise.all(clients.map((client, i) => client.write(`GET /warm/${batch[i]!.id} HTTP/1.1\r\nHost: t\r\n\r\n`)));
    for (const client of clients) expect((await client.responses(1))[0]?.status).toBe(200);
    await parkedAndHeld(cluster, batch.length);
    return await Promise.all(batch.map(async (c, i) => ({ c, wire: await send(c, clients[i]!, 'parked', 1), attempts: 1 })));
  } finally {
    for (const client of clients) client.close();
  }
}

async function sendAll(mode: Mode): Promise<Sent[]> {
  if (mode === 'fresh') return inBatches(corpus, BATCH, (c) => sendOnNewConnection(c, mode));
  if (mode === 'bytewise') return inBatches(corpus, 1, (c) => sendOnNewConnection(c, mode, BYTEWISE_ATTEMPTS));
  const sent: Sent[] = [];
  for (let i = 0; i < corpus.length; i += BATCH) sent.push(...(await sendAfterPark(corpus.slice(i, i + BATCH))));
  return sent;
}

/** What one case did, in the corpus's terms. */
function observed(s: Sent, mode: Mode, records: readonly AppRecord[]) {
  const exp = expectedIn(s.c, mode);
  const handler = handlerOutcome(records, exp.url);
  const glued = handlerOutcome(records, gluedPath(s.c, mode));
  const servedGlued = glued.outcome === 'completed' && s.wire.statuses.length === 2;
  return {
    status: s.wire.statuses[0] ?? ('none' as const),
    statuses: s.wire.statuses,
    closed: s.wire.closed,
    handler: handler.outcome,
    ...(handler.length === undefined ? {} : { length: handler.length }),
    glued: servedGlued ? ('served' as const) : glued.outcome === 'never' ? ('never' as const) : ('reached' as const),
  };
}

type Observed = ReturnType<typeof observed>;

/** Where `got` differs from what the corpus expects of the case in this mode (empty: it does not). */
function differences(c: MalformedCase, mode: Mode, got: Observed): string[] {
  const exp = expectedIn(c, mode);
  const out: string[] = [];
  if (!oneOf(exp.status, got.status)) out.push(`status ${JSON.stringify(exp.status)}, got ${got.status}`);
  if (!oneOf(exp.glued, got.glued)) out.push(`glued ${JSON.stringify(exp.glued)}, got ${got.glued}`);
  if (exp.handler !== got.handler) out.push(`handler ${exp.handler}, got ${got.handler}`);
  if (exp.length !== undefined && exp.length !== got.length) out.push(`body length ${exp.length}, got ${got.length}`);
  // Only a served glued request answers a second time and keeps the connection open.
  const statuses = got.status === 'none' ? 0 : got.glued === 'served' ? 2 : 1;
  if (got.statuses.length !== statuses) out.push(`${statuses} responses, got ${JSON.stringify(got.statuses)}`);
  if (got.glued === 'served' && got.statuses[1] !== 200) out.push(`glued request answered 200, got ${got.statuses[1]}`);
  if (got.closed !== (got.glued !== 'served')) out.push(got.closed ? 'connection kept open, got closed' : 'connection closed, got open');
  return out;
}

/**
 * MALFORMED_OBSERVED=<file>: what each case did in each mode is written there
 * (one JSON object per mode), to review and carry into the corpus when a
 * Node upgrade changes an answer.
 */
function writeObserved(file: string, mode: Mode, rows: readonly object[]): void {
  const all = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  fs.writeFileSync(file, JSON.stringify({ ...all, [mode]: rows }, null, 1));
}

describe('malformed and smuggling requests', () => {
  it('has a corpus of at least 60 cases, each unsafe one with its finding and each rejected one with where it fails', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
    for (const c of corpus) {
      if (c.verdict === 'unsafe') expect(c.finding, c.id).toMatch(/\w/);
      if (c.verdict === 'rejected') expect(['head', 'body'], c.id).toContain(c.at);
    }
  });

  it.each(MODES)('answers every case as the corpus says, sent %s, and no rejected request reaches the app', async (mode) => {
    const from = fs.statSync(recordFile).size;
    const wakesBefore = (await cluster.status()).connections.wakes;
    const sent = await sendAll(mode);
    // A handler that started finishes (its body ends, or errors as the connection closes) a moment later.
    await expect.poll(() => unsettled(readRecords(recordFile, from)), { timeout: 10_000, interval: 50 }).toEqual([]);
    const records = readRecords(recordFile, from);

    if (process.env.MALFORMED_OBSERVED) {
      writeObserved(process.env.MALFORMED_OBSERVED, mode, sent.map((s) => ({ id: s.c.id, attempts: s.attempts, ...observed(s, mode, records) })));
    }
    const mismatches = sent.flatMap((s) => {
      const wrong = differences(s.c, mode, observed(s, mode, records));
      return wrong.length === 0 ? [] : [{ id: s.c.id, wrong, wire: s.wire.text }];
    });
    expect(mismatches).toEqual([]);

    // The safety property itself, read off what happened rather than off the corpus's expectations.
    const leaks = sent.flatMap((s) => {
      if (s.c.verdict !== 'rejected') return [];
      const got = observed(s, mode, records);
      const handlerOk = got.handler === (s.c.at === 'body' ? 'aborted' : 'never');
      const rejected = got.closed && (got.status === 'none' || got.status >= 400);
      return handlerOk && got.glued === 'never' && rejected ? [] : [{ id: s.c.id, got }];
    });
    expect(leaks).toEqual([]);

    // Every request the app saw is one the test sent as such: a case's own URL, a glued request, a warm-up.
    const known = new Set(corpus.flatMap((c) => [expectedIn(c, mode).url, gluedPath(c, mode), `/warm/${c.id}`]));
    expect(records.filter((r) => !known.has(r.url)).map((r) => r.url)).toEqual([]);
    // Parked: each case's first bytes woke its connection in the monitor and were replayed in a worker.
    if (mode === 'parked') expect((await cluster.status()).connections.wakes - wakesBefore).toBeGreaterThanOrEqual(corpus.length);
  }, 180_000);

  it('never lets a request smuggled inside a case reach the app, and no worker died', async () => {
    const all = readRecords(recordFile);
    expect(all.length).toBeGreaterThan(0); // the cases above ran
    expect(all.filter((r) => r.url.includes('/smuggled/'))).toEqual([]);
    const status = await cluster.status();
    expect(status.restarts).toBe(0);
    expect(status.workers.map((w) => w.state)).toEqual(['ready', 'ready']);
  });
});
