/**
 * @file The engine's side of [Note: compute port]: adopting the ports Electron's main process sends to the utility
 * process, with a stand-in `process.parentPort` and worker_threads ports dressed as Electron's MessagePortMain.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createComputeService } from '../../compute-page/compute-service';
import type { ComputeProbe } from './compute-protocol';
import { ComputeLink, computeLink, listenForComputePort, setComputeLink } from './compute-link';

/** Electron's MessagePortMain emits `{ data }` events; worker_threads ports emit the data itself. */
function asPortMain(port: MessagePort) {
  const events = new EventEmitter();
  port.on('message', (data) => events.emit('message', { data }));
  port.on('close', () => events.emit('close'));
  return {
    on: (event: string, l: (...a: unknown[]) => void) => events.on(event, l),
    postMessage: (m: unknown) => port.postMessage(m),
    start: () => {},
  };
}

function page(note: string): MessagePort {
  const { port1, port2 } = new MessageChannel();
  const probe: ComputeProbe = {
    webgpu: { available: false, note: 'none' },
    webgl: { available: true, software: false, note },
    registered: ['webgl'],
  };
  const serve = createComputeService({ probe: async () => probe, activate: async (b) => b }, (m) =>
    port2.postMessage(m),
  );
  port2.on('message', serve);
  return port1;
}

const processWithPort = process as unknown as { parentPort?: EventEmitter };

afterEach(() => {
  delete processWithPort.parentPort;
  setComputeLink(null);
});

describe('listenForComputePort', () => {
  it('adopts each port the main process sends, ignores other messages, and forgets a closed one', async () => {
    const parentPort = new EventEmitter();
    processWithPort.parentPort = parentPort;
    listenForComputePort();
    expect(computeLink()).toBeNull();
    const first = page('first window');
    parentPort.emit('message', { data: { type: 'call', id: 1 }, ports: [asPortMain(first)] });
    expect(computeLink()).toBeNull();
    parentPort.emit('message', { data: { type: 'compute-port' }, ports: [asPortMain(first)] });
    expect((await computeLink()?.probe())?.webgl.note).toBe('first window');
    // A re-created window sends a new port: the link follows it.
    const second = page('second window');
    parentPort.emit('message', { data: { type: 'compute-port' }, ports: [asPortMain(second)] });
    expect((await computeLink()?.probe())?.webgl.note).toBe('second window');
    second.close();
    await expect.poll(() => computeLink()).toBeNull();
    first.close();
  });

  it('does nothing outside an Electron utility process', () => {
    listenForComputePort();
    expect(computeLink()).toBeNull();
  });

  it('gives up on a window that does not answer the probe, and asks again next time', async () => {
    const { port1, port2 } = new MessageChannel();
    const link = new ComputeLink({
      send: (m) => port1.postMessage(m),
      onMessage: (l) => port1.on('message', l),
      onClose: (l) => port1.on('close', l),
    });
    await expect(link.probe(50)).rejects.toMatchObject({ code: 'unsupported' });
    const serve = createComputeService(
      {
        probe: async () => ({
          webgpu: { available: false, note: '' },
          webgl: { available: false, software: false, note: 'late' },
          registered: [],
        }),
        activate: async (b) => b,
      },
      (m) => port2.postMessage(m),
    );
    port2.on('message', serve);
    expect((await link.probe(5000)).webgl.note).toBe('late');
    port1.close();
  });
});
