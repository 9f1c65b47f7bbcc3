/**
 * @file The engine's dispatcher and its in-process transport (engine, plain Node).
 *
 * `Engine.handle` parses the arguments with the contract's zod schema, runs the handler with a
 * progress callback and an abort signal, and always answers with a `Result` (see
 * [Note: error envelope]). The worker process, the in-process test client and anything else that
 * hosts the engine go through it.
 */
import type { CallOptions, EngineClient } from '../../shared/client';
import {
  contract,
  isOpName,
  type Handlers,
  type OpArgs,
  type OpName,
  type OpProgress,
  type OpResult,
} from '../../shared/contract';
import { servePeer, type EngineMessage } from '../../shared/protocol';
import { AppError, toAppError, type Result } from '../../shared/result';

/** Dispatches contract operations to their handlers. */
export class Engine {
  /** The host's jobs by call id (`cancel(id)`). */
  private readonly jobs = new Map<number, AbortController>();
  /** Every running job, the host's and the peers' (`cancelAll`, `idle`). */
  private readonly running = new Set<AbortController>();

  constructor(private readonly handlers: Handlers) {}

  /** Runs one operation by name with untrusted arguments. */
  async run(
    op: string,
    args: unknown,
    progress: (event: unknown) => void,
    signal: AbortSignal,
  ): Promise<Result<unknown>> {
    if (!isOpName(op))
      return { ok: false, error: { code: 'unknown_op', message: `Unknown engine operation "${op}".` } };
    const parsed = contract[op].args.safeParse(args ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
      return { ok: false, error: { code: 'bad_args', message: `Invalid arguments for ${op}: ${issues}` } };
    }
    try {
      const handler = this.handlers[op] as (
        a: unknown,
        c: { progress: (e: unknown) => void; signal: AbortSignal },
      ) => Promise<unknown>;
      const value = await handler(parsed.data, { progress, signal });
      if (signal.aborted) throw new AppError('cancelled', 'The job was cancelled.');
      return { ok: true, value };
    } catch (e) {
      if (signal.aborted) return { ok: false, error: { code: 'cancelled', message: 'The job was cancelled.' } };
      return { ok: false, error: toAppError(e) };
    }
  }

  /** Starts job `id` (a protocol call); `cancel(id)` aborts it. */
  async runJob(id: number, op: string, args: unknown, progress: (event: unknown) => void): Promise<Result<unknown>> {
    const controller = new AbortController();
    this.jobs.set(id, controller);
    try {
      return await this.runTracked(op, args, progress, controller);
    } finally {
      this.jobs.delete(id);
    }
  }

  /**
   * Serves one peer over its own channel (the desktop renderer's MessagePort, see [Note: engine port] in
   * electron/desktop/engine-ports.ts) with the protocol's calls and cancels (`servePeer`). Its jobs count as running
   * for `cancelAll` and `idle`, and they outlive the peer: reloading the page does not cancel a training run.
   */
  serve(send: (m: EngineMessage) => void): (message: unknown) => void {
    return servePeer(send, (m, signal, onProgress) => {
      const controller = new AbortController();
      signal.addEventListener('abort', () => controller.abort(), { once: true });
      return this.runTracked(m.op, m.args, onProgress ?? (() => {}), controller);
    });
  }

  private async runTracked(
    op: string,
    args: unknown,
    progress: (event: unknown) => void,
    controller: AbortController,
  ): Promise<Result<unknown>> {
    this.running.add(controller);
    try {
      return await this.run(op, args, progress, controller.signal);
    } finally {
      this.running.delete(controller);
    }
  }

  /** Cancels a running job; unknown ids are ignored (the job may have just finished). */
  cancel(id: number): void {
    this.jobs.get(id)?.abort();
  }

  /** Resolves when no job is running, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Cancels every running job (graceful shutdown). */
  cancelAll(): void {
    for (const c of this.running) c.abort();
  }
}

/** The in-process transport: calls the engine directly (tests, and tools that need no isolation). */
export function inProcessClient(engine: Engine): EngineClient {
  return {
    async call<N extends OpName>(name: N, args: OpArgs<N>, options: CallOptions<OpProgress<N>> = {}) {
      const signal = options.signal ?? new AbortController().signal;
      const progress = (e: unknown) => options.onProgress?.(e as OpProgress<N>);
      // Arguments are cloned as they would be by any real transport, so handlers never share caller objects.
      const result = await engine.run(name, structuredClone(args), progress, signal);
      return result as Result<OpResult<N>>;
    },
    async close() {
      engine.cancelAll();
    },
  };
}
