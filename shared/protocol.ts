/**
 * @file Wire protocol between an engine client and the engine (worker process, web socket, IPC).
 *
 * Plain JSON-serialisable messages (structured-clone-safe for Electron). One `call` starts a job
 * identified by `id`; the engine answers with any number of `progress` messages and exactly one
 * `result`. A `cancel` aborts the job's signal; the job then ends with a `cancelled` result.
 * `shutdown` (host only) cancels every job and ends the worker once they have settled.
 */
import type { AppErrorData, Result } from './result';

/** Client -> engine. */
export type ClientMessage =
  | { type: 'call'; id: number; op: string; args: unknown; wantsProgress: boolean }
  | { type: 'cancel'; id: number }
  /** Graceful stop: cancel every job, let them record it, then exit. Sent by the host, never by a UI peer. */
  | { type: 'shutdown' };

/**
 * Host -> engine worker, out of band with a MessagePort attached (Electron's utility process): the worker serves a peer
 * (the renderer) on that port (see [Note: engine port] in electron/desktop/engine-ports.ts).
 */
export const PEER_PORT_MESSAGE = { type: 'peer-port' } as const;

/** Engine -> client. */
export type EngineMessage =
  | { type: 'progress'; id: number; event: unknown }
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'ready'; pid: number }
  | { type: 'fatal'; error: AppErrorData };

/** What an untrusted peer (web page, renderer) may send: calls and cancels, never `shutdown`. */
export type PeerMessage = Extract<ClientMessage, { type: 'call' | 'cancel' }>;

/** Narrow check of an incoming peer message (the web socket receives untrusted JSON). */
export function isClientMessage(m: unknown): m is PeerMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  if (typeof r['id'] !== 'number') return false;
  if (r['type'] === 'cancel') return true;
  return r['type'] === 'call' && typeof r['op'] === 'string' && typeof r['wantsProgress'] === 'boolean';
}

/** A peer's `call`, as {@link servePeer} hands it to the job runner. */
export type PeerCall = Extract<PeerMessage, { type: 'call' }>;

/**
 * Serves calls and cancels from one peer: checks each message's shape, gives each call an abort signal (a `cancel`
 * aborts it) and a progress sink when the peer wants progress, and sends the job's result back. Used by the engine
 * bridge (web socket, renderer) and by the compute window.
 */
export function servePeer(
  send: (m: EngineMessage) => void,
  run: (call: PeerCall, signal: AbortSignal, onProgress?: (event: unknown) => void) => Promise<Result<unknown>>,
): (message: unknown) => void {
  const jobs = new Map<number, AbortController>();
  return (m) => {
    if (!isClientMessage(m)) return;
    if (m.type === 'cancel') {
      jobs.get(m.id)?.abort();
      return;
    }
    const { id } = m;
    const controller = new AbortController();
    jobs.set(id, controller);
    const onProgress = m.wantsProgress ? (event: unknown) => send({ type: 'progress', id, event }) : undefined;
    void run(m, controller.signal, onProgress).then((result) => {
      jobs.delete(id);
      send({ type: 'result', id, result });
    });
  };
}
