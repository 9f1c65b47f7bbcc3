/**
 * @file Time estimates of a `compare` sweep for the methods slow enough to need one (engine worker, plain Node).
 *
 * [Note: compare estimates] A method that declares `steps` in the registry (the optimiser steps of one run, its
 * evaluation passes counted as thirds of a step) is timed on its first run: before any run, the job says how many
 * steps the sweep holds; then, once per such method, it times the steps from the 10th to the 30th of its first run
 * (or to the run's last, when shorter) and estimates every run of that method still to come. The first steps are
 * left out because they pay for kernel set-up (measured on CoCoOp: an estimate from them was 2-4x too long).
 */
import { METHODS, type CompareMethod } from '../../../shared/contract/methods';
import type { CompareSettings, MethodEntry, SplitSize } from '../methods/registry';

/** Where the estimates go: seconds (NaN before any timing) and a sentence. */
export type EstimateSink = (seconds: number, message: string) => void;

const FIRST_TIMED_STEP = 10;
const LAST_TIMED_STEP = 30;

/** How long a span of seconds reads in a sentence. */
function duration(seconds: number): string {
  return seconds < 90 ? `${Math.ceil(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/** The estimates of one sweep; see [Note: compare estimates]. */
export class CompareEstimator {
  private readonly timed = new Set<CompareMethod>();

  constructor(
    private readonly methods: readonly { id: CompareMethod; entry: MethodEntry }[],
    private readonly splits: readonly SplitSize[],
    private readonly settings: CompareSettings,
    private readonly sink: EstimateSink,
  ) {}

  /** Steps of `method` from split `from` to the end of the sweep. */
  private stepsFrom(method: MethodEntry, from: number): number {
    return this.splits.slice(from).reduce((a, s) => a + (method.steps?.(s, this.settings) ?? 0), 0);
  }

  /** The sweep's size in steps, before any run (nothing when no chosen method declares steps). */
  announce(): void {
    const slow = this.methods.filter((m) => m.entry.steps);
    if (slow.length === 0) return;
    const parts = slow.map((m) => `${METHODS[m.id].label} ${Math.round(this.stepsFrom(m.entry, 0))}`);
    this.sink(NaN, `Training steps in all: ${parts.join(', ')}; the time estimate follows the first steps.`);
  }

  /** The step callback of one run of `method` on split `splitIndex`. */
  forRun(method: CompareMethod, entry: MethodEntry, splitIndex: number): (done: number, total: number) => void {
    if (!entry.steps || this.timed.has(method)) return () => {};
    let mark: { at: number; done: number } | null = null;
    const t0 = performance.now();
    return (done, total) => {
      if (this.timed.has(method)) return;
      if (done === FIRST_TIMED_STEP) mark = { at: performance.now(), done };
      if (done < Math.min(LAST_TIMED_STEP, total)) return;
      this.timed.add(method);
      const perStep =
        mark && done > mark.done
          ? (performance.now() - mark.at) / 1000 / (done - mark.done)
          : (performance.now() - t0) / 1000 / Math.max(1, done);
      const left = Math.max(0, this.stepsFrom(entry, splitIndex) - done);
      const seconds = left * perStep;
      this.sink(
        seconds,
        `${METHODS[method].label}: ${(perStep * 1000).toFixed(1)} ms per step, about ${duration(seconds)} for its remaining ${Math.round(left)} steps.`,
      );
    };
  }
}
