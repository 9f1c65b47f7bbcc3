/**
 * @file The client interface every transport implements (pure TypeScript).
 *
 * The renderer, the CLI and tests all call the engine through an `EngineClient`; which transport
 * sits behind it (in-process, worker process, Electron IPC, web socket) is invisible to them.
 */
import type { OpArgs, OpName, OpProgress, OpResult } from './contract';
import type { Result } from './result';

/** Options of one call. */
export interface CallOptions<P> {
  /** Receives the job's progress events. */
  onProgress?: (event: P) => void;
  /** Aborting it cancels the job in the engine. */
  signal?: AbortSignal;
}

/** A typed connection to the engine. */
export interface EngineClient {
  call<N extends OpName>(name: N, args: OpArgs<N>, options?: CallOptions<OpProgress<N>>): Promise<Result<OpResult<N>>>;
  /** Releases the connection (and the worker process, where the client owns one). */
  close(): Promise<void>;
}
