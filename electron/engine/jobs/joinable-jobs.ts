/**
 * @file Jobs that several callers share: the first call with a key starts the work, later calls with the same key
 * join it and get its progress and its result (engine, plain Node).
 *
 * [Note: joined jobs] Some jobs compute something that depends only on their key, not on who asked: twenty
 * `projectEmbed` calls on one project and model (two tabs, a double click, a script in a loop) would otherwise each
 * compute every missing embedding, twenty times the work and twenty writers of the same rows. A joiner gets the
 * latest progress event at once, then every later one, and the same result or error (the same job id). Cancelling
 * is per caller: a caller that cancels gets `cancelled` and stops listening, and the work itself is cancelled only
 * when no caller is left.
 */
import { AppError } from '../../../shared/result';

/** One caller of a joinable job. */
export interface JobCaller<P> {
  signal: AbortSignal;
  progress?: ((event: P) => void) | undefined;
}

interface Running<T, P> {
  controller: AbortController;
  listeners: Set<(event: P) => void>;
  callers: number;
  last: P | undefined;
  done: Promise<T>;
}

function cancelled(): AppError {
  return new AppError('cancelled', 'The job was cancelled.');
}

/** The running jobs of one kind, by key. */
export class JoinableJobs<T, P> {
  private readonly running = new Map<string, Running<T, P>>();

  /** How many jobs are running (tests). */
  get size(): number {
    return this.running.size;
  }

  /** Runs `start` for `key`, or joins the job already running for it; see [Note: joined jobs]. */
  run(key: string, caller: JobCaller<P>, start: (signal: AbortSignal, progress: (event: P) => void) => Promise<T>) {
    if (caller.signal.aborted) return Promise.reject(cancelled());
    let job = this.running.get(key);
    // A job every caller has left is being cancelled: a new caller starts afresh instead of inheriting that.
    if (!job || job.controller.signal.aborted) {
      const controller = new AbortController();
      const fresh: Running<T, P> = {
        controller,
        listeners: new Set(),
        callers: 0,
        last: undefined,
        done: Promise.resolve() as Promise<never>,
      };
      fresh.done = start(controller.signal, (event) => {
        fresh.last = event;
        for (const l of fresh.listeners) l(event);
      }).finally(() => {
        if (this.running.get(key) === fresh) this.running.delete(key);
      });
      // The work's own failure reaches every caller through `done`; this only keeps Node from calling it unhandled
      // when every caller has already left.
      fresh.done.catch(() => undefined);
      this.running.set(key, fresh);
      job = fresh;
    }
    return this.attach(job, caller);
  }

  private attach(job: Running<T, P>, caller: JobCaller<P>): Promise<T> {
    const listener = caller.progress;
    if (listener) {
      job.listeners.add(listener);
      if (job.last !== undefined) listener(job.last);
    }
    job.callers++;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        if (listener) job.listeners.delete(listener);
        caller.signal.removeEventListener('abort', onAbort);
        job.callers--;
      };
      const onAbort = () => {
        leave();
        if (job.callers === 0) job.controller.abort();
        reject(cancelled());
      };
      caller.signal.addEventListener('abort', onAbort, { once: true });
      job.done.then(
        (value) => {
          if (caller.signal.aborted) return;
          leave();
          resolve(value);
        },
        (e: unknown) => {
          if (caller.signal.aborted) return;
          leave();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }
}
