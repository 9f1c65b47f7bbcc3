/**
 * @file The training schedules of CoOp prompt learning: names, the default for a task, and what each decides (pure
 * TypeScript; the engine, the CLI help and the Learn screen read them from here, through ./train.ts).
 *
 * [Note: schedules] `paper` is CoOp's recipe as published: SGD (momentum 0.9, weight decay 5e-4), lr 0.002 with one
 * warm-up epoch at 1e-5 and cosine decay, batch 32, 50/100/200 epochs for 1/2-7/8+ shots, so its steps grow with
 * classes x shots. `fast` uses that image features are cached: a step's cost hardly depends on the batch size (the
 * text encoder runs over every class prompt once per step, whatever the batch), so it takes the whole training set as
 * one batch per step, with Adam, for the same epochs. Where `paper` already takes one step per epoch (fewer than two
 * batches of training images) `fast` would save nothing, so there it is `paper` exactly. The schedule study
 * (docs/schedule-study.md, `npm run study:schedule`) measured both on synthetic tasks of 5 to 100 classes and 1 to 16
 * shots, 3 seeds each; `fast` is the default where it came within 1 point of `paper` at every shot count of every
 * task: the tasks of 5 and 10 classes, so up to FAST_DEFAULT_MAX_CLASSES classes. On the harder tasks of 35, 50 and
 * 100 classes it fell 1.3-3.6 points short at some shot count, so above that `paper` is the default and `fast` one
 * choice away (the Learn screen shows the expected time of both before the click).
 */

/** Training schedules: the fast one of the schedule study, and CoOp's published recipe. */
export const TRAIN_SCHEDULES = ['fast', 'paper'] as const;
/** A training schedule's name. */
export type TrainSchedule = (typeof TRAIN_SCHEDULES)[number];
/** The largest batch a run takes (the `fast` schedule's whole-set batch is capped there). */
export const MAX_BATCH = 4096;
/** CoOp's batch size, the `paper` schedule's. */
export const PAPER_BATCH = 32;
/** The most classes for which `fast` is the default (see [Note: schedules]). */
export const FAST_DEFAULT_MAX_CLASSES = 10;

/** The schedule a run with `classes` classes uses when none is given (see [Note: schedules]). */
export function defaultSchedule(classes: number): TrainSchedule {
  return classes <= FAST_DEFAULT_MAX_CLASSES ? 'fast' : 'paper';
}

/**
 * CoOp's epochs for a shot count, what `learn` and `compare` train when no epoch count is given and what the Learn
 * screen promises: the paper's table 1 -> 50, 2 and 4 -> 100, 8 and 16 -> 200; a count in between takes the next
 * lower row (5-7 shots: 100).
 */
export function defaultEpochs(shots: number): number {
  if (shots <= 1) return 50;
  if (shots < 8) return 100;
  return 200;
}

/** {@link defaultEpochs} in words, for help texts (shared/contract/rules.test.ts checks that they agree). */
export const DEFAULT_EPOCHS_TEXT = '1 shot: 50, 2-7: 100, 8+: 200';

/** One line per schedule for the CLI help and the Learn screen. */
export const SCHEDULE_DESCRIPTIONS: Record<TrainSchedule, string> = {
  fast: `the whole training set as one batch per step with Adam at lr 0.002, CoOp's epochs (${DEFAULT_EPOCHS_TEXT}); the paper's recipe where that takes one step per epoch anyway`,
  paper: `CoOp's published recipe: batches of 32, SGD at lr 0.002, CoOp's epochs (${DEFAULT_EPOCHS_TEXT})`,
};

/** How the default is chosen, in one sentence (CLI help, Learn screen). */
export const DEFAULT_SCHEDULE_RULE = `fast up to ${FAST_DEFAULT_MAX_CLASSES} classes, paper above; see docs/schedule-study.md`;

/** The epochs of `schedule` for `shots` per class (both schedules: CoOp's count; see [Note: schedules]). */
export function scheduleEpochs(_schedule: TrainSchedule, shots: number): number {
  return defaultEpochs(shots);
}

/** Everything a schedule decides about a run's optimisation (what the trainer is told, what a run records). */
export interface ScheduleSettings {
  schedule: TrainSchedule;
  epochs: number;
  batchSize: number;
  /** Optimiser steps per epoch and in all (Dassl drops the last incomplete batch; see [Note: batches]). */
  stepsPerEpoch: number;
  steps: number;
  optimizer: 'sgd' | 'adam';
  /** Peak learning rate (after warm-up), cosine-decayed over the epochs. */
  lr: number;
  /** SGD's momentum, or Adam's beta1. */
  momentum: number;
  weightDecay: number;
  warmupEpochs: number;
  warmupLr: number;
}

/**
 * The settings of a run with `classes` classes, `shots` per class and `trainImages` training images under
 * `schedule` (the default for the class count when omitted); `epochs` and `batchSize` override the schedule's own.
 */
export function resolveSchedule(opts: {
  schedule?: TrainSchedule | undefined;
  classes: number;
  shots: number;
  trainImages: number;
  epochs?: number | undefined;
  batchSize?: number | undefined;
}): ScheduleSettings {
  const schedule = opts.schedule ?? defaultSchedule(opts.classes);
  const n = Math.max(1, opts.trainImages);
  // [Note: batches] Dassl drops the last incomplete batch when the set holds at least one full batch.
  const stepsOf = (batch: number) => (n >= batch ? Math.floor(n / batch) : 1);
  // `fast` departs from the paper's recipe only where that saves steps (see [Note: schedules]).
  const fast = schedule === 'fast' && (opts.batchSize !== undefined || stepsOf(PAPER_BATCH) > 1);
  const epochs = opts.epochs ?? scheduleEpochs(schedule, opts.shots);
  const batchSize = opts.batchSize ?? (fast ? Math.min(n, MAX_BATCH) : PAPER_BATCH);
  const stepsPerEpoch = stepsOf(batchSize);
  return {
    schedule,
    epochs,
    batchSize,
    stepsPerEpoch,
    steps: stepsPerEpoch * epochs,
    optimizer: fast ? 'adam' : 'sgd',
    lr: 0.002,
    momentum: 0.9,
    weightDecay: 5e-4,
    warmupEpochs: 1,
    warmupLr: 1e-5,
  };
}
