/**
 * @file Test helper: Node's MessagePort in the shape of Electron's MessagePortMain (Node, tests only).
 *
 * Electron cannot run here, so the port wiring of the desktop app (see [Note: engine port]) is tested over Node's
 * `MessageChannel`, which copies messages with the same structured clone; only the listener shape differs.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PeerPort } from '../../electron/engine/peer-port';

/** `port` as a MessagePortMain: `on('message', e => e.data)`, `on('close')`, `postMessage`, `start`. */
export function asPortMain(port: MessagePort): PeerPort {
  return {
    on(event: 'message' | 'close', listener: ((e: { data: unknown }) => void) | (() => void)) {
      if (event === 'message')
        port.on('message', (data: unknown) => (listener as (e: { data: unknown }) => void)({ data }));
      else port.on('close', listener as () => void);
    },
    postMessage: (m: unknown) => port.postMessage(m),
    start: () => port.start(),
  } as PeerPort;
}
