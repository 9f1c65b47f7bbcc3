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
  'busy',
  'disk_full',
  'read_only',
  'internal',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Finer, machine-readable reasons within a code, for errors a UI or the CLI phrases in its own words.
 *
 * [Note: error reasons] The engine's `message` is a sentence for any reader and never names a CLI flag or a button;
 * where the fix depends on where the user is (a flag in the terminal, a control in the studio), the error also carries
 * a `reason` and the numbers behind it (`facts`), and each front end says what to do in its own terms (the CLI's
 * hints in electron/hosts/cli/command.ts).
 */
export const ERROR_REASONS = [
  /** Fewer than two classes with usable images. facts: classes (found). */
  'too_few_classes',
  /** The split leaves no test image. facts: shots, perClass ({ name, images }[]), minImagesPerClass. */
  'no_test_images',
  /** A learned context used with another model than its own. facts: contextModel, model ({ id, dir } each). */
  'model_mismatch',
] as const;

/** One of {@link ERROR_REASONS}. */
export type ErrorReason = (typeof ERROR_REASONS)[number];

/** A serialisable error: a code for programs, a sentence for people, optional detail for logs. */
export interface AppErrorData {
  code: ErrorCode;
  message: string;
  detail?: string;
  /** A machine-readable reason within `code` (see [Note: error reasons]). */
  reason?: ErrorReason;
  /** The numbers and names behind `reason`, for a front end to phrase. */
  facts?: Record<string, unknown>;
}

/** The reply envelope of every engine operation. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppErrorData };

/** An Error subclass that carries an {@link ErrorCode}; thrown inside the engine, converted at the boundary. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly reason: ErrorReason | undefined;
  readonly facts: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    detail?: string,
    why?: { reason: ErrorReason; facts?: Record<string, unknown> },
  ) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
    this.reason = why?.reason;
    this.facts = why?.facts;
  }

  /** The plain-data form that crosses process boundaries. */
  toData(): AppErrorData {
    return {
      code: this.code,
      message: this.message,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.facts === undefined ? {} : { facts: this.facts }),
    };
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

/**
 * [Note: system errors] Failures of the machine rather than of the input get their own codes and sentences, so
 * that neither the UI nor a script sees `internal`: another process holding the database (`busy`), a full disk
 * (`disk_full`) and a read-only data folder (`read_only`). They are recognised by the `code` that SQLite
 * (better-sqlite3's `SqliteError`) and Node's file system put on their errors.
 */
const SYSTEM_ERRORS: Record<string, AppErrorData> = {
  SQLITE_BUSY: {
    code: 'busy',
    message:
      'The project database is busy: another CoOp Studio process (the desktop app, a `coop-studio` command or ' +
      'the web mode) has been writing to this data folder for too long. Try again when it has finished.',
  },
  SQLITE_FULL: {
    code: 'disk_full',
    message: 'The disk is full: the data folder has no room for more data. Free some space and try again.',
  },
  ENOSPC: {
    code: 'disk_full',
    message: 'The disk is full: the data folder has no room for more data. Free some space and try again.',
  },
  SQLITE_READONLY: {
    code: 'read_only',
    message:
      'The data folder is read-only: projects can be shown but not changed. Make the folder writable, or point ' +
      'COOP_STUDIO_DATA_DIR at a writable one (`coop-studio doctor` names the folder).',
  },
  EROFS: {
    code: 'read_only',
    message:
      'The data folder is on a read-only file system: projects can be shown but not changed. Point ' +
      'COOP_STUDIO_DATA_DIR at a writable folder (`coop-studio doctor` names the folder).',
  },
};

/** The error data of a known system failure (see [Note: system errors]), or undefined. */
export function systemError(e: unknown): AppErrorData | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return undefined;
  // SQLite's extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED, ...) share the primary code's meaning.
  const known = SYSTEM_ERRORS[code] ?? SYSTEM_ERRORS[code.replace(/^(SQLITE_[A-Z]+?)_.*$/, '$1')];
  if (!known) return undefined;
  const detail = e instanceof Error ? e.message : undefined;
  return detail ? { ...known, detail } : known;
}

/** True when `e` is an {@link AppError} (or error data) with this code, or a system failure that maps to it. */
export function isErrorCode(e: unknown, code: ErrorCode): boolean {
  if (e instanceof AppError) return e.code === code;
  return systemError(e)?.code === code;
}

/** Converts anything thrown into error data; unknown errors become `internal` with their stack as detail. */
export function toAppError(e: unknown): AppErrorData {
  if (e instanceof AppError) return e.toData();
  const system = systemError(e);
  if (system) return system;
  if (e instanceof Error) {
    if (e.name === 'AbortError') return { code: 'cancelled', message: 'The job was cancelled.' };
    return { code: 'internal', message: e.message, ...(e.stack ? { detail: e.stack } : {}) };
  }
  return { code: 'internal', message: String(e) };
}

/** Unwraps a result or throws it as an {@link AppError}. */
export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  const { code, message, detail, reason, facts } = result.error;
  throw new AppError(code, message, detail, reason ? { reason, ...(facts ? { facts } : {}) } : undefined);
}
