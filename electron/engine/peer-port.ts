/**
 * @file Serves the engine to a peer on a MessagePort the host handed over: the desktop renderer's port (engine, Electron
 * utility process).
 *
 * See [Note: engine port] in electron/desktop/engine-ports.ts: the main process gives the engine one end of a channel
 * and the renderer the other, and steps out. Messages on the port are checked by `servePeer` and the arguments parsed
 * by the contract's zod schemas in `Engine.run`, so the peer reaches no handler with unchecked input.
 */
import { PEER_PORT_MESSAGE } from '../../shared/protocol';
import type { Engine } from './engine';

/** The parts of Electron's MessagePortMain the engine uses (tests wrap Node's MessagePort in the same shape). */
export interface PeerPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(message: unknown): void;
  start(): void;
}

/** True for the host's "serve a peer on this port" message. */
export function isPeerPortMessage(data: unknown): boolean {
  return (data as { type?: unknown } | null)?.type === PEER_PORT_MESSAGE.type;
}

/** Serves `engine` on `port` until the port closes; jobs still running then finish and are recorded. */
export function servePeerPort(engine: Engine, port: PeerPort): void {
  let open = true;
  const serve = engine.serve((m) => {
    if (open) port.postMessage(m);
  });
  port.on('message', (e) => serve(e.data));
  port.on('close', () => (open = false));
  port.start();
}
