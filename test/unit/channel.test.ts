import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { Channel, type Endpoint } from '../../src/shared/channel.js';
import type { NativeHandle } from '../../src/shared/handles.js';
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

describe('Channel', () => {
  it('keeps one handle in flight and sends the next only after the ack', async () => {
    const [a, b] = pair();
    const received: number[] = [];
    const sender = new Channel<Msg, Msg>(asEndpoint(a), () => true, { ackTimeout: 1000 });
    new Channel<Msg, Msg>(asEndpoint(b), (m) => (m.t === 'conn' ? (received.push(m.id), true) : true), { ackTimeout: 1000 });
    const results = [1, 2, 3].map((id) => sender.sendHandle({ t: 'conn', id }, handle(id)));
    expect(a.sent).toHaveLength(1); // the other two wait for the first ack
    expect(sender.pendingHandles).toBe(3);
    await expect(Promise.all(results)).resolves.toEqual([true, true, true]);
    expect(received).toEqual([1, 2, 3]);
    expect(sender.busy).toBe(false);
  });

  it('reports a refusal, and the receiver closes its duplicate of the refused handle', async () => {
    const [a, b] = pair();
    const sender = new Channel<Msg, Msg>(asEndpoint(a), () => true, { ackTimeout: 1000 });
    new Channel<Msg, Msg>(asEndpoint(b), () => false, { ackTimeout: 1000 });
    const h = handle(7);
    await expect(sender.sendHandle({ t: 'conn', id: 7 }, h)).resolves.toBe(false);
    expect(h.close).toHaveBeenCalledOnce(); // the fake passes the same object; a real peer closes its own copy
  });

  it('fails a handle that is not acknowledged in time with RC_ERR_IPC_TIMEOUT, then refuses to send more', async () => {
    const [a] = pair();
    const sender = new Channel<Msg, Msg>(asEndpoint(a), () => true, { ackTimeout: 20 });
    const first = sender.sendHandle({ t: 'conn', id: 1 }, handle(1));
    const second = sender.sendHandle({ t: 'conn', id: 2 }, handle(2));
    await expect(first).rejects.toMatchObject({ code: 'RC_ERR_IPC_TIMEOUT' });
    await expect(second).rejects.toMatchObject({ code: 'RC_ERR_IPC_CLOSED' });
    expect(sender.connected).toBe(false);
  });

  it('fails everything pending when the peer disconnects', async () => {
    const [a, b] = pair();
    b.connected = false; // the peer never answers
    const sender = new Channel<Msg, Msg>(asEndpoint(a), () => true, { ackTimeout: 1000 });
    const pending = [sender.sendHandle({ t: 'conn', id: 1 }, handle(1)), sender.sendHandle({ t: 'conn', id: 2 }, handle(2))];
    a.disconnect();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'RC_ERR_IPC_CLOSED' });
    await expect(sender.sendHandle({ t: 'conn', id: 3 }, handle(3))).rejects.toMatchObject({ code: 'RC_ERR_IPC_CLOSED' });
  });

  it("ignores an app's own messages on the same channel", async () => {
    const [a, b] = pair();
    const seen: Msg[] = [];
    new Channel<Msg, Msg>(asEndpoint(b), (m) => void seen.push(m), { ackTimeout: 1000 });
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
