/**
 * The desktop app's engine ports end to end, with Node stand-ins for what Electron provides (see [Note: engine port]):
 * Node's MessageChannel for MessageChannelMain, an in-process engine "process" that the stand-in launcher can crash,
 * and a fake WebContents whose page end is the renderer's real `PortClient`.
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PortClient, type EnginePort } from '../../shared/port-client';
import type { EngineMessage } from '../../shared/protocol';
import { tempDir } from '../../tests/helpers/engine';
import { asPortMain } from '../../tests/helpers/ports';
import { Engine } from '../engine/engine';
import { createHandlers } from '../engine/handlers';
import { isPeerPortMessage, servePeerPort } from '../engine/peer-port';
import { EngineHost, type WorkerLauncher } from '../hosts/engine-host/engine-host';
import { ENGINE_PORT_CHANNEL, EnginePorts, type PortTarget } from './engine-ports';

const OUR_PAGE = 'app://renderer/index.html';

/** A launcher whose "worker" is an in-process engine; `crash()` ends the current one as a killed process would. */
function inProcessWorkers(dataDir: string) {
  const hostSaw: EngineMessage[] = [];
  let crashCurrent = () => {};
  const launcher: WorkerLauncher = () => {
    const engine = new Engine(createHandlers({ dataDir, log: () => {} }));
    const ports: MessagePort[] = [];
    const onMessage: ((m: EngineMessage) => void)[] = [];
    const onExit: ((code: number | null, signal: string | null) => void)[] = [];
    const post = (m: EngineMessage) => {
      hostSaw.push(m);
      for (const l of onMessage) l(m);
    };
    crashCurrent = () => {
      for (const p of ports) p.close();
      engine.cancelAll();
      for (const l of onExit.splice(0)) l(null, 'SIGKILL');
    };
    setTimeout(() => post({ type: 'ready', pid: 0 }), 5);
    return {
      pid: undefined,
      send: (m) => {
        if (m.type === 'call')
          void engine.runJob(m.id, m.op, m.args, () => {}).then((result) => post({ type: 'result', id: m.id, result }));
      },
      postPort: (message, port) => {
        if (!isPeerPortMessage(message)) return;
        ports.push(port as MessagePort);
        servePeerPort(engine, asPortMain(port as MessagePort));
      },
      onMessage: (l) => onMessage.push(l),
      onExit: (l) => onExit.push(l),
      kill: () => crashCurrent(),
    };
  };
  return { launcher, hostSaw, crash: () => crashCurrent() };
}

/** A fake WebContents: the ports posted to it go to the page's `PortClient`. */
function page(url = OUR_PAGE) {
  const client = new PortClient();
  const given: MessagePort[] = [];
  let destroyed: () => void = () => {};
  const target: PortTarget<MessagePort> = {
    postMessage: (channel, _message, [port]) => {
      expect(channel).toBe(ENGINE_PORT_CHANNEL);
      if (!port) return;
      given.push(port);
      // Node's port is an EventTarget like the page's; only its declared listener type is wider.
      client.attach(port as unknown as EnginePort);
    },
    getURL: () => url,
    isDestroyed: () => false,
    once: (_event, listener) => (destroyed = listener),
  };
  return { client, given, target, destroy: () => destroyed() };
}

describe('engine ports (main process off the data path)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function desktop() {
    const dir = tempDir('coop-ports-');
    const workers = inProcessWorkers(dir.path);
    const renderer = page();
    const host = new EngineHost({
      launcher: workers.launcher,
      entry: fileURLToPath(import.meta.url),
      onReady: () => ports.engineReady(),
      // What main.ts does on a crash: the page is told, and fails the calls on its dead port.
      onCrash: () => renderer.client.detach(),
    });
    const ports = new EnginePorts<MessagePort>({
      newChannel: () => new MessageChannel(),
      toEngine: (port) => host.sendPeerPort(port),
      trusted: (url) => url === OUR_PAGE,
      close: (port) => port.close(),
    });
    cleanups.push(
      () => dir.cleanup(),
      () => host.stop(),
      () => renderer.client.close(),
      () => renderer.given.forEach((p) => p.close()),
    );
    return { host, ports, renderer, workers };
  }

  it('hands the page a port straight to the engine: calls, progress and cancel never pass through main', async () => {
    const { host, ports, renderer, workers } = desktop();
    ports.connect(renderer.target);
    expect(renderer.given).toHaveLength(0); // no engine yet: the page's calls wait
    const early = renderer.client.call('ping', {});
    await host.start();
    expect(await early).toMatchObject({ ok: true, value: { pong: true } });
    expect(renderer.given).toHaveLength(1);

    const ticks: number[] = [];
    const r = await renderer.client.call('ping', { delayMs: 20, ticks: 3 }, { onProgress: (p) => ticks.push(p.tick) });
    expect(r).toMatchObject({ ok: true, value: { ticks: 3 } });
    expect(ticks).toEqual([1, 2, 3]);
    expect(await renderer.client.call('ping', { delayMs: -1 })).toMatchObject({
      ok: false,
      error: { code: 'bad_args' },
    });
    const controller = new AbortController();
    const slow = renderer.client.call(
      'ping',
      { delayMs: 10_000, ticks: 100 },
      { signal: controller.signal, onProgress: (p) => p.tick === 2 && controller.abort() },
    );
    expect(await slow).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    // The host (main) saw the engine say it was ready, and nothing else: no call, progress event or result.
    expect(workers.hostSaw.map((m) => m.type)).toEqual(['ready']);
  });

  it('fails the calls in flight with engine_crashed after a crash, and reconnects the page to the new engine', async () => {
    const { host, ports, renderer, workers } = desktop();
    await host.start();
    ports.connect(renderer.target);
    const inFlight = renderer.client.call(
      'ping',
      { delayMs: 10_000, ticks: 100 },
      { onProgress: (p) => p.tick === 1 && workers.crash() },
    );
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    await host.whenReady();
    await expect.poll(() => renderer.given.length).toBe(2);
    expect(host.restartCount).toBe(1);
    expect(await renderer.client.call('ping', { ticks: 1 })).toMatchObject({ ok: true, value: { ticks: 1 } });
  });

  it('gives a reloaded page a fresh port, and none to a page that is not ours or is gone', async () => {
    const { host, ports, renderer } = desktop();
    await host.start();
    ports.connect(renderer.target);
    ports.connect(renderer.target); // the page reloaded and asked again
    expect(renderer.given).toHaveLength(2);
    expect(ports.size).toBe(1);
    expect(await renderer.client.call('ping', {})).toMatchObject({ ok: true });

    const foreign = page('https://evil.example/');
    cleanups.push(() => foreign.client.close());
    ports.connect(foreign.target);
    expect(foreign.given).toHaveLength(0);
    expect(ports.size).toBe(1);

    renderer.destroy();
    expect(ports.size).toBe(0);
    ports.engineReady();
    expect(renderer.given).toHaveLength(2);
  });
});
