import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PEER_PORT_MESSAGE, type EngineMessage } from '../../shared/protocol';
import { tempDir } from '../../tests/helpers/engine';
import { asPortMain } from '../../tests/helpers/ports';
import { Engine } from './engine';
import { createHandlers } from './handlers';
import { isPeerPortMessage, servePeerPort } from './peer-port';

/** An engine over a fresh data folder serving one peer port; `received` collects what the peer got. */
function served() {
  const dir = tempDir('coop-peer-');
  const engine = new Engine(createHandlers({ dataDir: dir.path, log: () => {} }));
  const { port1, port2 } = new MessageChannel();
  servePeerPort(engine, asPortMain(port1));
  const received: EngineMessage[] = [];
  port2.on('message', (m: EngineMessage) => received.push(m));
  return { engine, peer: port2, received, cleanup: () => (port2.close(), dir.cleanup()) };
}

describe("the engine serving a peer's port", () => {
  let cleanup: () => void = () => {};
  afterEach(() => cleanup());

  it('knows the host message that carries a peer port', () => {
    expect(isPeerPortMessage(PEER_PORT_MESSAGE)).toBe(true);
    expect(isPeerPortMessage({ type: 'compute-port' })).toBe(false);
    expect(isPeerPortMessage(null)).toBe(false);
  });

  it('answers calls with progress, checks arguments and cancels', async () => {
    const s = served();
    cleanup = s.cleanup;
    s.peer.postMessage({ type: 'call', id: 1, op: 'ping', args: { delayMs: 20, ticks: 2 }, wantsProgress: true });
    s.peer.postMessage({ type: 'call', id: 2, op: 'ping', args: { delayMs: -1 }, wantsProgress: false });
    s.peer.postMessage({ type: 'shutdown' });
    s.peer.postMessage({
      type: 'call',
      id: 3,
      op: 'ping',
      args: { delayMs: 10_000, ticks: 100 },
      wantsProgress: false,
    });
    s.peer.postMessage({ type: 'cancel', id: 3 });
    await expect.poll(() => s.received.filter((m) => m.type === 'result').length).toBe(3);
    const result = (id: number) => s.received.find((m) => m.type === 'result' && m.id === id);
    expect(result(1)).toMatchObject({ result: { ok: true, value: { pong: true, ticks: 2 } } });
    expect(s.received.filter((m) => m.type === 'progress').map((m) => m.id)).toEqual([1, 1]);
    expect(result(2)).toMatchObject({ result: { ok: false, error: { code: 'bad_args' } } });
    expect(result(3)).toMatchObject({ result: { ok: false, error: { code: 'cancelled' } } });
  });

  it("counts a peer's jobs for shutdown: cancelAll cancels them and idle waits for them", async () => {
    const s = served();
    cleanup = s.cleanup;
    s.peer.postMessage({ type: 'call', id: 7, op: 'ping', args: { delayMs: 10_000, ticks: 100 }, wantsProgress: true });
    await expect.poll(() => s.received.length).toBeGreaterThan(0);
    s.engine.cancelAll();
    await s.engine.idle(5000);
    await expect
      .poll(() => s.received.find((m) => m.type === 'result'))
      .toMatchObject({ id: 7, result: { ok: false, error: { code: 'cancelled' } } });
  });

  it('lets a job finish when the peer goes away (a page reload does not cancel a run)', async () => {
    const s = served();
    cleanup = s.cleanup;
    const run = vi.spyOn(s.engine, 'run');
    s.peer.postMessage({ type: 'call', id: 1, op: 'ping', args: { delayMs: 200, ticks: 4 }, wantsProgress: true });
    await expect.poll(() => s.received.length).toBeGreaterThan(0);
    s.peer.close();
    const result = await (run.mock.results[0]?.value as Promise<unknown>);
    expect(result).toMatchObject({ ok: true, value: { pong: true, ticks: 4 } });
  });
});
