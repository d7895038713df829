import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './paths.js';
import { RawClient, parseResponses } from './raw-client.js';

/**
 * The malformed-request corpus (test/fixtures/malformed/cases.json) and the
 * means to send one case and see what happened: on the wire (the responses,
 * whether the server closed) and in the app (test/fixtures/record-app.mjs
 * writes down every request its handler saw).
 */

/** A run of `times` copies of `repeat`, so that a 17 KB case stays one readable line. */
export interface Repeat {
  readonly repeat: string;
  readonly times: number;
}

/** Each character of a string is one byte (latin1): "\u0000" is NUL, "\u00e9" the byte 0xe9. */
export type Bytes = string | readonly (string | Repeat)[];

/**
 * What became of a request in the app's handler: never called; called, then
 * its body ended in an error (the head was valid, the body was not); called
 * and given the whole request.
 */
export type HandlerOutcome = 'never' | 'aborted' | 'completed';

/**
 * What became of a valid request glued right behind the case on the same
 * connection: never reached the app; reached the handler but no answer came
 * back (the connection was closed); handled and answered.
 */
export type GluedOutcome = 'never' | 'reached' | 'served';

/**
 * - `valid`: a well-formed request, served.
 * - `rejected`: malformed (`at` says whether in the head or the body), refused.
 * - `lenient`: not strictly well-formed, accepted the way RFC 9112 allows (no framing ambiguity).
 * - `unsafe`: what happens is not what RFC 9112 requires, in a way that matters: `finding` says how.
 */
export type Verdict = 'valid' | 'rejected' | 'lenient' | 'unsafe';

/** A response's status, or 'none' when the server closed without a byte. */
export type Status = number | 'none';

/** One value, or (only where a race decides, see `modes`) a list of the values it may take. */
export type OneOf<T> = T | readonly T[];

export interface Expected {
  /** The first response's status. */
  readonly status: OneOf<Status>;
  readonly handler: HandlerOutcome;
  readonly glued: OneOf<GluedOutcome>;
  /** The URL the app saw, when the handler ran (default `/m/<id>`). */
  readonly url?: string;
  /** The body length the app read, when the handler completed. */
  readonly length?: number;
}

export type Mode = 'fresh' | 'bytewise' | 'parked';

export interface MalformedCase {
  readonly id: string;
  readonly group: string;
  readonly about: string;
  readonly verdict: Verdict;
  /** For `rejected`: where the error is. A body error comes after the app got the (valid) head. */
  readonly at?: 'head' | 'body';
  readonly finding?: string;
  /** For `lenient`: what Node accepts and why that is allowed. */
  readonly note?: string;
  readonly request: Bytes;
  readonly expect: Expected;
  /**
   * Where a mode differs, and why. A request that ends its connection (HTTP/1.0
   * or 0.9, not keep-alive) or one Node answers with `Connection: close` has
   * the glued request arrive as data after the close: sent whole, it is read
   * in the same chunk and answered 400 before the app's own answer goes out;
   * sent byte by byte, it depends on how many bytes each read of the server
   * gets, so the corpus lists both outcomes there.
   */
  readonly modes?: Partial<Record<Mode, Partial<Expected> & { readonly why: string }>>;
}

export function oneOf<T>(expected: OneOf<T>, got: T): boolean {
  return Array.isArray(expected) ? expected.includes(got) : expected === got;
}

export const CORPUS_FILE = path.join(FIXTURES, 'malformed/cases.json');

export function loadCorpus(): MalformedCase[] {
  return (JSON.parse(fs.readFileSync(CORPUS_FILE, 'utf8')) as { cases: MalformedCase[] }).cases;
}

export function toBytes(bytes: Bytes): Buffer {
  const parts = typeof bytes === 'string' ? [bytes] : bytes;
  return Buffer.concat(parts.map((p) => Buffer.from(typeof p === 'string' ? p : p.repeat.repeat(p.times), 'latin1')));
}

/** The case's expectation in one mode. */
export function expectedIn(c: MalformedCase, mode: Mode): Required<Pick<Expected, 'status' | 'handler' | 'glued' | 'url'>> & { length?: number } {
  const override: Partial<Expected> & { why?: string } = { ...c.modes?.[mode] };
  delete override.why;
  return { url: `/m/${c.id}`, ...c.expect, ...override };
}

/** The valid request glued behind a case: it must reach the app only where the case is a valid request itself. */
export function gluedPath(c: MalformedCase, mode: Mode): string {
  return `/glued/${c.id}/${mode}`;
}

export function gluedRequest(c: MalformedCase, mode: Mode): string {
  return `GET ${gluedPath(c, mode)} HTTP/1.1\r\nHost: t\r\n\r\n`;
}

/** What the client saw after it sent a case: the statuses of the responses, in order, and whether the server closed. */
export interface Wire {
  readonly statuses: number[];
  readonly closed: boolean;
  /** A write failed: the server had closed (and reset the connection) while bytes were still being sent. */
  readonly reset: boolean;
  /** The first bytes received, for a failure message. */
  readonly text: string;
}

/**
 * Sends `bytes` on `client` (all at once, or one byte per write, each write
 * waited for) and waits until the server has closed, or `responses` responses
 * have arrived with the connection still open, or `timeoutMs` has passed.
 * `skip` responses received before (a parked connection's first one) are not counted.
 */
export async function sendCase(client: RawClient, bytes: Buffer, o: { bytewise: boolean; responses: number; closes: boolean; skip: number; timeoutMs: number }): Promise<Wire> {
  const at = client.text.length;
  const received = () => parseResponses(Buffer.from(client.text, 'latin1')).slice(o.skip);
  let reset = false;
  if (o.bytewise) {
    client.socket.setNoDelay(true);
    const ended = () => client.closed || client.socket.destroyed || client.socket.readableEnded;
    for (let i = 0; i < bytes.length && !ended(); i++) {
      try {
        await client.write(bytes.subarray(i, i + 1));
      } catch {
        reset = true;
        break;
      }
      // The callback of a write the kernel took at once comes before any I/O is polled: without
      // this the loop would write on after the server's answer and close. Node closes at once
      // after its 400 (no lingering close), so such a byte draws a reset, and node:net destroys
      // a socket whose write fails before it reads the answer that may be waiting in its buffer.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } else {
    await client.write(bytes).catch(() => (reset = true));
  }
  const done = () => client.closed || (!o.closes && received().length >= o.responses);
  await client.until(done, o.timeoutMs, 'the answer to a case', true).catch(() => undefined);
  return { statuses: received().map((r) => r.status), closed: client.closed, reset, text: client.text.slice(at, at + 300) };
}

/** One line of the record app's file. */
export interface AppRecord {
  readonly pid: number;
  readonly event: 'start' | 'complete' | 'aborted';
  readonly url: string;
  readonly method?: string;
  readonly length?: number;
}

/** The record lines written after byte `from` of the file. */
export function readRecords(file: string, from = 0): AppRecord[] {
  const text = fs.readFileSync(file).subarray(from).toString('utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AppRecord);
}

/** Requests whose handler has started and not yet completed or aborted. */
export function unsettled(records: readonly AppRecord[]): string[] {
  const open = new Map<string, number>();
  for (const r of records) open.set(r.url, (open.get(r.url) ?? 0) + (r.event === 'start' ? 1 : -1));
  return [...open].filter(([, n]) => n > 0).map(([url]) => url);
}

/** What the records say became of the requests for `url`. */
export function handlerOutcome(records: readonly AppRecord[], url: string): { outcome: HandlerOutcome; length?: number; starts: number } {
  const mine = records.filter((r) => r.url === url);
  const starts = mine.filter((r) => r.event === 'start').length;
  const complete = mine.find((r) => r.event === 'complete');
  if (complete) return { outcome: 'completed', length: complete.length ?? 0, starts };
  return { outcome: starts > 0 ? 'aborted' : 'never', starts };
}

/** Runs `task` over `items`, `width` at a time, keeping order in the results. */
export async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return out;
}
