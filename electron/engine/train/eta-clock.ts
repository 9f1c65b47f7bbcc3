/**
 * @file The training loop's time-left estimate (engine; pure TypeScript, any runtime).
 *
 * [Note: ETA] The first step of a run pays for kernel compilation and memory growth (on wasm it can take several
 * times a later step; shard threads warm up on it too), so an estimate that averages it in starts far too long and
 * converges slowly. The clock therefore times steps from the end of the first one, keeps the time spent evaluating
 * the epochs apart (see [Note: deferred evaluation] in trainer.ts), and estimates what is left as steps left x the
 * mean step plus evaluations left x the mean evaluation. Until a second step has finished it falls back to the
 * first step's time. `bench/learn.bench.ts` measures how close the estimate after the first few steps comes to the
 * real time left.
 */

/** Tracks step and evaluation times of one training run and estimates the seconds left. */
export class EtaClock {
  private readonly start: number;
  private firstStepEnd: number | null = null;
  private steps = 0;
  private evalMs = 0;
  private evalMsAfterFirst = 0;
  private evals = 0;

  constructor(
    private readonly totalSteps: number,
    private readonly totalEvals: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
  }

  /** Call when a step (its update included) has finished. */
  stepDone(): void {
    this.steps++;
    if (this.steps === 1) this.firstStepEnd = this.now();
  }

  /** Call with the milliseconds one epoch's evaluation took. */
  evalDone(ms: number): void {
    this.evals++;
    this.evalMs += ms;
    if (this.firstStepEnd !== null) this.evalMsAfterFirst += ms;
  }

  /** Mean milliseconds of a step so far (see [Note: ETA]). */
  msPerStep(): number {
    const t = this.now();
    if (this.steps >= 2 && this.firstStepEnd !== null)
      return Math.max(0, t - this.firstStepEnd - this.evalMsAfterFirst) / (this.steps - 1);
    return this.steps === 1 ? Math.max(0, t - this.start - this.evalMs) : 0;
  }

  /** Seconds left: steps left x mean step + evaluations left x mean evaluation. */
  etaS(): number {
    const perStep = this.msPerStep();
    const perEval = this.evals > 0 ? this.evalMs / this.evals : 0;
    const left = perStep * (this.totalSteps - this.steps) + perEval * Math.max(0, this.totalEvals - this.evals);
    return left / 1000;
  }
}
