/**
 * @file The one error funnel of the UI: every failure becomes a toast with a human sentence (renderer).
 */
import type { AppErrorData, ErrorCode, Result } from '../../../shared/result';

/** One toast on screen. */
export interface Toast {
  id: number;
  /** An error, a warning (something the user should know went wrong without failing: an import of nothing), news. */
  kind: 'error' | 'warning' | 'info';
  title: string;
  message: string;
}

const TITLES: Record<ErrorCode, string> = {
  bad_args: 'That input is not valid',
  unknown_op: 'The engine does not know that action',
  not_found: 'Not found',
  invalid_model: 'This model folder cannot be used',
  invalid_image: 'An image could not be read',
  invalid_data: 'The data has a problem',
  io_error: 'A file could not be read or written',
  cancelled: 'Cancelled',
  engine_crashed: 'The engine stopped',
  unauthorized: 'Not allowed',
  unsupported: 'Not supported here',
  conflict: 'That conflicts with something that exists',
  network: 'The network request failed',
  busy: 'Another CoOp Studio process is busy with this data folder',
  disk_full: 'The disk is full',
  read_only: 'The data folder is read-only',
  internal: 'Something went wrong',
};

class ToastStore {
  items = $state<Toast[]>([]);
  private next = 1;

  push(kind: Toast['kind'], title: string, message: string, timeoutMs = 8000): void {
    const id = this.next++;
    this.items.push({ id, kind, title, message });
    if (timeoutMs > 0) setTimeout(() => this.dismiss(id), timeoutMs);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

/** The toasts on screen. */
export const toasts = new ToastStore();

/** Shows an error to the user: the funnel every failure goes through. */
export function showError(error: AppErrorData | unknown): void {
  const data: AppErrorData =
    typeof error === 'object' && error !== null && 'code' in error && 'message' in error
      ? (error as AppErrorData)
      : { code: 'internal', message: error instanceof Error ? error.message : String(error) };
  if (data.code === 'cancelled') {
    toasts.push('info', TITLES.cancelled, data.message, 4000);
    return;
  }
  toasts.push('error', TITLES[data.code] ?? TITLES.internal, data.message);
}

/** Returns the value of a result, or funnels its error and returns undefined. */
export function valueOr<T>(result: Result<T>): T | undefined {
  if (result.ok) return result.value;
  showError(result.error);
  return undefined;
}
