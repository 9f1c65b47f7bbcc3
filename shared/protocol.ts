/**
 * @file Wire protocol between an engine client and the engine (worker process, web socket, IPC).
 *
 * Plain JSON-serialisable messages (structured-clone-safe for Electron). One `call` starts a job
 * identified by `id`; the engine answers with any number of `progress` messages and exactly one
 * `result`. A `cancel` aborts the job's signal; the job then ends with a `cancelled` result.
 */
import type { AppErrorData, Result } from './result';

/** Client -> engine. */
export type ClientMessage =
  { type: 'call'; id: number; op: string; args: unknown; wantsProgress: boolean } | { type: 'cancel'; id: number };

/** Engine -> client. */
export type EngineMessage =
  | { type: 'progress'; id: number; event: unknown }
  | { type: 'result'; id: number; result: Result<unknown> }
  | { type: 'ready'; pid: number }
  | { type: 'fatal'; error: AppErrorData };

/** Narrow check of an incoming client message (the web socket receives untrusted JSON). */
export function isClientMessage(m: unknown): m is ClientMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  if (typeof r['id'] !== 'number') return false;
  if (r['type'] === 'cancel') return true;
  return r['type'] === 'call' && typeof r['op'] === 'string' && typeof r['wantsProgress'] === 'boolean';
}
