/**
 * @file Serves the engine protocol to one untrusted peer (the web page's socket) over an `EngineClient` (Node).
 *
 * The desktop page does not come through here: the engine process serves its MessagePort itself (see
 * [Note: engine port] in electron/desktop/engine-ports.ts).
 * The peer's messages are checked for shape here and their arguments parsed by the engine's zod
 * schemas, so a peer can never reach a handler with unchecked input. Jobs outlive the peer's
 * connection: reloading the page does not cancel a training run.
 */
import type { EngineClient } from '../../../shared/client';
import type { OpName } from '../../../shared/contract';
import { servePeer, type EngineMessage } from '../../../shared/protocol';

/** Returns the function to feed with the peer's messages; answers go through `send`. */
export function bridgeToEngine(client: EngineClient, send: (m: EngineMessage) => void): (message: unknown) => void {
  return servePeer(send, (m, signal, onProgress) =>
    client.call(m.op as OpName, m.args as never, { signal, ...(onProgress ? { onProgress } : {}) }),
  );
}
