/**
 * @file The building blocks of the engine contract (pure TypeScript).
 *
 * [Note: one contract] Every engine operation is declared once with `op()`: a zod schema of its
 * arguments, and phantom types for its result and its progress events. Electron IPC, the local
 * web server, the worker process and the in-process test transport all derive their types from
 * the same declarations, and the engine's handler table is typed `Handlers`, so an operation
 * without a handler fails `tsc`.
 */
import type { z } from 'zod';

/** Declaration of one operation. `R` and `P` exist only at the type level. */
export interface OpSpec<A extends z.ZodType, R, P> {
  readonly args: A;
  readonly summary: string;
  /** Long-running operations report progress and can be cancelled. */
  readonly job: boolean;
  readonly __result?: R;
  readonly __progress?: P;
}

/** Any operation declaration. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOpSpec = OpSpec<z.ZodType, any, any>;

/** Declares a short request/response operation. */
export function op<R>() {
  return <A extends z.ZodType>(args: A, summary: string): OpSpec<A, R, never> => ({
    args,
    summary,
    job: false,
  });
}

/** Declares a long job with progress events of type `P`; it can be cancelled. */
export function job<R, P>() {
  return <A extends z.ZodType>(args: A, summary: string): OpSpec<A, R, P> => ({
    args,
    summary,
    job: true,
  });
}

/** A map of operation name to declaration. */
export type OpTable = Record<string, AnyOpSpec>;

/** What a caller passes (zod input type). */
export type ArgsIn<S extends AnyOpSpec> = z.input<S['args']>;
/** What a handler receives after parsing (zod output type). */
export type ArgsOut<S extends AnyOpSpec> = z.output<S['args']>;
/** The result type of an operation. */
export type ResultOf<S extends AnyOpSpec> = NonNullable<S['__result']>;
/** The progress event type of an operation (`never` for short operations). */
export type ProgressOf<S extends AnyOpSpec> = NonNullable<S['__progress']>;

/** What a handler gets besides its arguments. */
export interface JobContext<P> {
  /** Reports progress to the caller (no-op for callers that did not ask). */
  progress(event: P): void;
  /** Aborted when the caller cancels the job. */
  signal: AbortSignal;
}

/** The handler table for an op table: every operation must have exactly one handler. */
export type HandlersFor<T extends OpTable> = {
  [N in keyof T]: (args: ArgsOut<T[N]>, ctx: JobContext<ProgressOf<T[N]>>) => Promise<ResultOf<T[N]>>;
};
