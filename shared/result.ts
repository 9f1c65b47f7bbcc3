/**
 * @file Errors as data across process boundaries (pure TypeScript, any runtime).
 *
 * [Note: error envelope] Every reply that crosses a process boundary (worker IPC, Electron IPC,
 * the web socket) is a `Result<T>`: `{ ok: true, value }` or `{ ok: false, error }`. Exceptions
 * never cross; the engine converts them with `toAppError`, and the renderer's one error funnel
 * turns `error.code` into a human sentence.
 */

/** Machine-readable error codes; the UI maps each to a sentence and, where useful, an action. */
export const ERROR_CODES = [
  'bad_args',
  'unknown_op',
  'not_found',
  'invalid_model',
  'invalid_image',
  'invalid_data',
  'io_error',
  'cancelled',
  'engine_crashed',
  'unauthorized',
  'unsupported',
  'conflict',
  'network',
  'internal',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A serialisable error: a code for programs, a sentence for people, optional detail for logs. */
export interface AppErrorData {
  code: ErrorCode;
  message: string;
  detail?: string;
}

/** The reply envelope of every engine operation. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppErrorData };

/** An Error subclass that carries an {@link ErrorCode}; thrown inside the engine, converted at the boundary. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, detail?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
  }

  /** The plain-data form that crosses process boundaries. */
  toData(): AppErrorData {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/** Wraps a value as a successful result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Wraps error data as a failed result. */
export function fail<T = never>(error: AppErrorData): Result<T> {
  return { ok: false, error };
}

/** Converts anything thrown into error data; unknown errors become `internal` with their stack as detail. */
export function toAppError(e: unknown): AppErrorData {
  if (e instanceof AppError) return e.toData();
  if (e instanceof Error) {
    if (e.name === 'AbortError') return { code: 'cancelled', message: 'The job was cancelled.' };
    return { code: 'internal', message: e.message, ...(e.stack ? { detail: e.stack } : {}) };
  }
  return { code: 'internal', message: String(e) };
}

/** Unwraps a result or throws it as an {@link AppError}. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new AppError(result.error.code, result.error.message, result.error.detail);
}
