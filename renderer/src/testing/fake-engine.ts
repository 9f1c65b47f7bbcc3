/**
 * @file A fake engine client for controller and component tests: handlers per operation, arguments checked by the
 * contract's zod schemas as the real engine does, every call recorded (renderer tests only).
 */
import type { CallOptions, EngineClient } from '../../../shared/client';
import {
  contract,
  type Handlers,
  type OpArgs,
  type OpName,
  type OpProgress,
  type OpResult,
} from '../../../shared/contract';
import { toAppError, type Result } from '../../../shared/result';

/** One recorded call: the operation and the arguments as the UI sent them. */
export interface RecordedCall {
  op: OpName;
  args: unknown;
}

/** An `EngineClient` answered by the handlers given; an operation without one fails with `unknown_op`. */
export class FakeEngine implements EngineClient {
  readonly calls: RecordedCall[] = [];
  private readonly handlers: Partial<Handlers>;

  constructor(handlers: Partial<Handlers> = {}) {
    this.handlers = { ...handlers };
  }

  /** Sets (or replaces) the handler of `op`. */
  on<N extends OpName>(op: N, handler: Handlers[N]): this {
    (this.handlers as Record<string, unknown>)[op] = handler;
    return this;
  }

  /** The arguments of every call of `op`, in order. */
  argsOf<N extends OpName>(op: N): OpArgs<N>[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.args as OpArgs<N>);
  }

  async call<N extends OpName>(
    name: N,
    args: OpArgs<N>,
    options: CallOptions<OpProgress<N>> = {},
  ): Promise<Result<OpResult<N>>> {
    this.calls.push({ op: name, args: structuredClone(args) });
    const parsed = contract[name].args.safeParse(args ?? {});
    if (!parsed.success) return { ok: false, error: { code: 'bad_args', message: parsed.error.message } };
    const handler = this.handlers[name] as
      ((a: unknown, c: { progress: (e: unknown) => void; signal: AbortSignal }) => Promise<unknown>) | undefined;
    if (!handler) return { ok: false, error: { code: 'unknown_op', message: `The fake engine has no "${name}".` } };
    const signal = options.signal ?? new AbortController().signal;
    try {
      const value = await handler(parsed.data, {
        progress: (e) => options.onProgress?.(e as OpProgress<N>),
        signal,
      });
      if (signal.aborted) return { ok: false, error: { code: 'cancelled', message: 'The job was cancelled.' } };
      return { ok: true, value: value as OpResult<N> };
    } catch (e) {
      if (signal.aborted) return { ok: false, error: { code: 'cancelled', message: 'The job was cancelled.' } };
      return { ok: false, error: toAppError(e) };
    }
  }

  async close(): Promise<void> {}
}

/** A handler's work that never finishes by itself: it ends, rejected, when the UI cancels the call (`signal`). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
}
