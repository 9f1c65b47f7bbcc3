/**
 * @file An `EngineClient` over any message channel (pure TypeScript).
 *
 * The worker host, the web-socket client and the Electron IPC client differ only in how a message
 * travels; this class does the bookkeeping they share: call ids, progress routing, cancellation,
 * and failing every pending call when the channel dies.
 */
import type { CallOptions, EngineClient } from './client';
import type { OpArgs, OpName, OpProgress, OpResult } from './contract';
import type { ClientMessage, EngineMessage } from './protocol';
import type { AppErrorData, Result } from './result';

interface Pending {
  resolve: (r: Result<unknown>) => void;
  onProgress: ((event: unknown) => void) | undefined;
  cleanup: () => void;
}

/** Sends client messages and is told about engine messages by its owner. */
export class MessageClient implements EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: AppErrorData | null = null;

  constructor(
    private readonly send: (m: ClientMessage) => void,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  /** Number of calls still waiting for a result. */
  get inFlight(): number {
    return this.pending.size;
  }

  call<N extends OpName>(
    name: N,
    args: OpArgs<N>,
    options: CallOptions<OpProgress<N>> = {},
  ): Promise<Result<OpResult<N>>> {
    if (this.closedWith) return Promise.resolve({ ok: false, error: this.closedWith });
    const id = this.nextId++;
    const { signal, onProgress } = options;
    if (signal?.aborted) {
      return Promise.resolve({ ok: false, error: { code: 'cancelled', message: 'The job was cancelled.' } });
    }
    return new Promise((resolve) => {
      const onAbort = () => this.send({ type: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (r: Result<unknown>) => void,
        onProgress: onProgress as ((event: unknown) => void) | undefined,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      try {
        this.send({ type: 'call', id, op: name, args, wantsProgress: onProgress !== undefined });
      } catch (e) {
        this.settle(id, {
          ok: false,
          error: { code: 'engine_crashed', message: `Could not reach the engine: ${String(e)}` },
        });
      }
    });
  }

  /** Routes one engine message to its call. */
  receive(m: EngineMessage): void {
    if (m.type === 'progress') this.pending.get(m.id)?.onProgress?.(m.event);
    else if (m.type === 'result') this.settle(m.id, m.result);
  }

  /** Fails every pending call (the channel died) and refuses new ones until `reopen`. */
  failAll(error: AppErrorData, permanently: boolean): void {
    for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, error });
    if (permanently) this.closedWith = error;
  }

  async close(): Promise<void> {
    this.failAll({ code: 'cancelled', message: 'The connection to the engine was closed.' }, true);
    await this.onClose();
  }

  private settle(id: number, result: Result<unknown>): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.cleanup();
    p.resolve(result);
  }
}
