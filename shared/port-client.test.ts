import { afterEach, describe, expect, it } from 'vitest';
import { PortClient } from './port-client';
import { servePeer } from './protocol';

/** A port (the global MessageChannel: Node's here, the DOM's in a page) to a fake engine that answers `ping` with `{ pong: <engine name> }` and never answers `hang`. */
function engineEnd(name: string): { port: MessagePort; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const serve = servePeer(
    (m) => port1.postMessage(m),
    (call, signal) =>
      call.op === 'hang'
        ? new Promise((resolve) =>
            signal.addEventListener('abort', () => resolve({ ok: false, error: { code: 'cancelled', message: '' } })),
          )
        : Promise.resolve({ ok: true, value: { pong: name } }),
  );
  port1.onmessage = (e) => serve(e.data);
  return { port: port2, close: () => (port1.close(), port2.close()) };
}

describe('PortClient (the desktop renderer over a replaceable engine port)', () => {
  const open: { close: () => void }[] = [];
  const end = (name: string) => {
    const e = engineEnd(name);
    open.push(e);
    return e;
  };
  afterEach(() => open.splice(0).forEach((e) => e.close()));

  it('keeps calls made before the first port and sends them when it arrives', async () => {
    const client = new PortClient();
    expect(client.connected).toBe(false);
    const early = client.call('ping', {});
    client.attach(end('first').port);
    expect(client.connected).toBe(true);
    expect(await early).toEqual({ ok: true, value: { pong: 'first' } });
  });

  it('fails the calls in flight with engine_crashed when the engine is gone, then waits for the next port', async () => {
    const client = new PortClient();
    client.attach(end('first').port);
    const inFlight = client.call('hang' as 'ping', {});
    client.detach();
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    const waiting = client.call('ping', {});
    client.attach(end('second').port);
    expect(await waiting).toEqual({ ok: true, value: { pong: 'second' } });
  });

  it('fails calls sent on a port that is replaced without a crash notice, and ignores the old port', async () => {
    const client = new PortClient();
    const first = end('first');
    client.attach(first.port);
    const onOld = client.call('hang' as 'ping', {});
    client.attach(end('second').port);
    expect(await onOld).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    expect(await client.call('ping', {})).toEqual({ ok: true, value: { pong: 'second' } });
  });

  it('cancels a call on the engine through the port', async () => {
    const client = new PortClient();
    client.attach(end('first').port);
    const controller = new AbortController();
    const pending = client.call('hang' as 'ping', {}, { signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });
});
