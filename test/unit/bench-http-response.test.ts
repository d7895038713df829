import { describe, expect, it } from 'vitest';
import { parseHead, ResponseParseError, ResponseReader, type ParsedResponse } from '../../bench/load/http-response.js';
import { summarizeLatencies } from '../../bench/load/latency.js';

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const REJECT = 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\nServer is too busy.\n';

/** Feeds `chunks` in order and returns every response the reader completed. */
function read(chunks: readonly string[], reader = new ResponseReader()): ParsedResponse[] {
  const got: ParsedResponse[] = [];
  for (const c of chunks) reader.push(Buffer.from(c, 'latin1'), (r) => got.push(r));
  return got;
}

describe('ResponseReader (the think-time client)', () => {
  it('reads a keep-alive response framed by Content-Length', () => {
    expect(read([ok('Hello, world\n')])).toEqual([{ status: 200, close: false }]);
  });

  it('completes a response only once its last body byte arrives, however the reads split it', () => {
    const text = ok('Hello, world\n');
    for (let cut = 1; cut < text.length; cut++) {
      const reader = new ResponseReader();
      expect(read([text.slice(0, cut)], reader)).toEqual([]);
      expect(reader.midResponse).toBe(true);
      expect(read([text.slice(cut)], reader)).toEqual([{ status: 200, close: false }]);
      expect(reader.midResponse).toBe(false);
    }
  });

  it('reads pipelined responses from one chunk, in order', () => {
    expect(read([ok('a') + REJECT]).map((r) => r.status)).toEqual([200, 503]);
  });

  it("sees rocket-cluster's 503 as closing the connection", () => {
    expect(read([REJECT])).toEqual([{ status: 503, close: true }]);
  });

  it('ends a response without a length at the close, not before', () => {
    const reader = new ResponseReader();
    expect(read(['HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\nsome body'], reader)).toEqual([]);
    expect(reader.end()).toEqual({ status: 408, close: true });
    expect(reader.end()).toBeNull();
  });

  it('skips an interim 100 Continue and reads the response after it', () => {
    expect(read(['HTTP/1.1 100 Continue\r\n\r\n' + ok('x')])).toEqual([{ status: 200, close: false }]);
  });

  it('refuses chunked bodies and garbage instead of guessing', () => {
    expect(() => read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'])).toThrow(ResponseParseError);
    expect(() => read(['SSH-2.0-OpenSSH\r\n\r\n'])).toThrow(ResponseParseError);
    expect(() => read(['HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n'])).toThrow(ResponseParseError);
  });
});

describe('parseHead', () => {
  it('treats HTTP/1.0 as closing unless it says keep-alive', () => {
    expect(parseHead('HTTP/1.0 200 OK\r\nContent-Length: 0').close).toBe(true);
    expect(parseHead('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0').close).toBe(false);
  });

  it('gives 204 and 304 no body whatever their headers say', () => {
    expect(parseHead('HTTP/1.1 204 No Content\r\nContent-Length: 5').length).toBe('none');
    expect(parseHead('HTTP/1.1 304 Not Modified').length).toBe('none');
  });
});

describe('summarizeLatencies', () => {
  it('reads nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(summarizeLatencies(samples)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('is all null for a run without samples', () => {
    expect(summarizeLatencies([])).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });
  });

  it('gives the one sample for every percentile', () => {
    expect(summarizeLatencies([7])).toMatchObject({ p50: 7, p90: 7, p99: 7 });
  });
});
