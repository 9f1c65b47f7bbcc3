/**
 * @file Records a project's learning run in the store as it happens (engine, plain Node).
 *
 * [Note: recording a run] The run row is created `queued` as soon as the model and the project are read, turns
 * `running` when its split is drawn (the split is written at once, see [Note: run images]), gets one curve point per
 * epoch as the trainer reports it, then the learned context, the test predictions and the final report, and ends
 * `done`, `failed` or `cancelled`. Every write is its own transaction, so a killed engine leaves a consistent run
 * with everything up to its last epoch, which the next open marks `interrupted` (see [Note: interrupted jobs]).
 */
import type { EpochPoint, LearnResult, TestPrediction } from '../../../shared/contract/train';
import { AppError } from '../../../shared/result';
import type { Db } from './db';
import { touchProject } from './projects-repo';
import {
  appendMetric,
  createRun,
  finishRun,
  saveContext,
  saveRunImages,
  saveRunPredictions,
  startRun,
  type NewRun,
  type SavedContext,
} from './runs-repo';
import type { RunImage } from '../../../shared/contract/projects';

/** The store side of one learning run (see [Note: recording a run]). */
export class RunRecorder {
  private steps = 0;

  private constructor(
    private readonly db: Db,
    /** The run's id. */
    readonly runId: number,
    private readonly projectId: number,
  ) {}

  /** Creates the `queued` run row. */
  static create(db: Db, run: NewRun): RunRecorder {
    const runId = createRun(db, run);
    touchProject(db, run.projectId);
    return new RunRecorder(db, runId, run.projectId);
  }

  /** Writes the split and marks the run `running`, with the shots the split took. */
  start(images: readonly Omit<RunImage, 'predicted' | 'confidence'>[], shots?: number): void {
    this.db.transaction(() => {
      saveRunImages(this.db, this.runId, images);
      startRun(this.db, this.runId, shots);
    })();
  }

  /** Counts a training step (curve points carry the global step). */
  step(): void {
    this.steps++;
  }

  /** Appends one epoch's curve point. */
  epoch(point: EpochPoint): void {
    appendMetric(this.db, this.runId, {
      epoch: point.epoch,
      step: this.steps,
      loss: point.trainLoss,
      trainAcc: point.trainAccuracy,
      valAcc: point.valAccuracy,
      testAcc: point.testAccuracy,
      lr: point.lr,
      seconds: point.seconds,
    });
  }

  /** Stores the learned context, the test predictions and the report, and ends the run `done`. */
  finish(context: SavedContext, result: LearnResult): void {
    const { curve: _curve, predictions, ...rest } = result;
    this.db.transaction(() => {
      saveContext(this.db, this.runId, context);
      saveRunPredictions(this.db, this.runId, predictions satisfies TestPrediction[]);
      finishRun(this.db, this.runId, 'done', { result: rest });
      touchProject(this.db, this.projectId);
    })();
  }

  /** Ends the run `cancelled` (the caller aborted) or `failed` with the error's message. */
  fail(error: unknown, aborted: boolean): void {
    const cancelled = aborted || (error instanceof AppError && error.code === 'cancelled');
    finishRun(this.db, this.runId, cancelled ? 'cancelled' : 'failed', {
      ...(cancelled ? {} : { error: error instanceof Error ? error.message : String(error) }),
    });
  }
}
