import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { Channel, type Endpoint } from '../../src/shared/channel.js';
import type { NativeHandle } from '../../src/shared/node-internals/handles.js';
import { isEnvelope, wrap } from '../../src/shared/protocol.js';

type Msg = { t: 'conn'; id: number } | { t: 'hello' };

/** One side of an in-memory IPC pair: what one side sends, the other receives on the next tick. */
class FakeEndpoint extends EventEmitter {
  peer!: FakeEndpoint;
  connected = true;
  readonly sent: { message: unknown; handle: unknown }[] = [];
  send(message: unknown, handle: unknown, _options: unknown, callback: (e: Error | null) => void): boolean {
    this.sent.push({ message, handle });
    const copy = JSON.parse(JSON.stringify(message)) as unknown;
    setImmediate(() => {
      callback(null);
      if (this.peer.connected) this.peer.emit('message', copy, handle);
    });
    return true;
  }
  disconnect(): void {
    this.connected = false;
    this.emit('disconnect');
  }
}

function pair(): [FakeEndpoint, FakeEndpoint] {
  const a = new FakeEndpoint();
  const b = new FakeEndpoint();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const handle = (n: number) => ({ n, close: vi.fn() }) as unknown as NativeHandle & { close: ReturnType<typeof vi.fn> };
const asEndpoint = (e: FakeEndpoint) => e as unknown as Endpoint;

type Reclaimed = { id: number; outcome: string };

/** A channel whose reclaimed handles are recorded, as an owner would take them back. */
function channel(endpoint: FakeEndpoint, receive: (m: Msg) => boolean | void, ackTimeout = 1000) {
  const reclaimed: Reclaimed[] = [];
  const ch = new Channel<Msg, Msg>(asEndpoint(endpoint), receive, {
    ackTimeout,
    reclaim: (m, _handle, outcome) => void reclaimed.push({ id: m.t === 'conn' ? m.id : -1, outcome }),
  });
  return { ch, reclaimed };
}

describe('Channel', () => {
  it('keeps one handle in flight and sends the next only after the ack', async () => {
    const [a, b] = pair();
    const received: number[] = [];
    const { ch: sender } = channel(a, () => true);
    channel(b, (m) => (m.t === 'conn' ? (received.push(m.id), true) : true));
    const results = [1, 2, 3].map((id) => sender.sendHandle({ t: 'conn', id }, handle(id)));
    expect(a.sent).toHaveLength(1); // the other two wait for the first ack
    expect(sender.pendingHandles).toBe(3);
    await expect(Promise.all(results)).resolves.toEqual(['taken', 'taken', 'taken']);
    expect(received).toEqual([1, 2, 3]);
    expect(sender.busy).toBe(false);
  });

  it("closes the sender's copy once the peer took the handle, and reclaims nothing", async () => {
    const [a, b] = pair();
    const { ch: sender, reclaimed } = channel(a, () => true);
    channel(b, () => true);
    const h = handle(4);
    await expect(sender.sendHandle({ t: 'conn', id: 4 }, h)).resolves.toBe('taken');
    expect(h.close).toHaveBeenCalledOnce();
    expect(reclaimed).toEqual([]);
  });

  it('gives a refused handle back to its sender, and the receiver closes its duplicate', async () => {
    const [a, b] = pair();
    const { ch: sender, reclaimed } = channel(a, () => true);
    channel(b, () => false);
    const h = handle(7);
    await expect(sender.sendHandle({ t: 'conn', id: 7 }, h)).resolves.toBe('refused');
    expect(reclaimed).toEqual([{ id: 7, outcome: 'refused' }]);
    // The fake passes the same object: this close is the receiver's, of its own duplicate; the sender's copy is reclaimed, not closed.
    expect(h.close).toHaveBeenCalledOnce();
  });

  it('reclaims a handle that is not acknowledged in time as a timeout, then everything else as closed', async () => {
    const [a] = pair();
    const { ch: sender, reclaimed } = channel(a, () => true, 20);
    const first = sender.sendHandle({ t: 'conn', id: 1 }, handle(1));
    const second = sender.sendHandle({ t: 'conn', id: 2 }, handle(2));
    await expect(first).resolves.toBe('timeout');
    await expect(second).resolves.toBe('closed');
    expect(reclaimed).toEqual([
      { id: 1, outcome: 'timeout' },
      { id: 2, outcome: 'closed' },
    ]);
    expect(sender.connected).toBe(false);
  });

  it('reclaims everything pending when the peer disconnects, and whatever is sent after', async () => {
    const [a, b] = pair();
    b.connected = false; // the peer never answers
    const { ch: sender, reclaimed } = channel(a, () => true);
    const pending = [sender.sendHandle({ t: 'conn', id: 1 }, handle(1)), sender.sendHandle({ t: 'conn', id: 2 }, handle(2))];
    a.disconnect();
    await expect(Promise.all(pending)).resolves.toEqual(['closed', 'closed']);
    await expect(sender.sendHandle({ t: 'conn', id: 3 }, handle(3))).resolves.toBe('closed');
    expect(reclaimed.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("ignores an app's own messages on the same channel", async () => {
    const [a, b] = pair();
    const seen: Msg[] = [];
    channel(b, (m) => void seen.push(m));
    a.send({ t: 'hello' }, undefined, undefined, () => {});
    a.send(wrap({ t: 'hello' }), undefined, undefined, () => {});
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([{ t: 'hello' }]);
  });
});

describe('isEnvelope', () => {
  it('accepts our envelopes only', () => {
    expect(isEnvelope(wrap({ t: 'x' }))).toBe(true);
    expect(isEnvelope({ t: 'x' })).toBe(false);
    expect(isEnvelope({ ...wrap({ t: 'x' }), v: 99 })).toBe(false);
    expect(isEnvelope(null)).toBe(false);
    expect(isEnvelope({ tag: 'rocket-cluster', v: 1, m: 'nope' })).toBe(false);
  });
});
