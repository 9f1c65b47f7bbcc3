/**
 * @file The schedules the study compares: the app's own `paper` and `fast` (from shared/contract/train.ts, so the
 * study always measures what ships) and the candidates tried on the way (study script, plain Node).
 */
import { defaultEpochs, resolveSchedule, type TrainSchedule } from '../../shared/contract/train';
import { trainerSchedule } from '../../electron/engine/train/schedule';
import type { ScheduleRun } from './run-one';

/** A schedule of the study: how it trains a run with `shots` per class and `n` training images. */
export interface StudySchedule {
  id: string;
  note: string;
  run(shots: number, n: number): ScheduleRun;
}

function shipped(schedule: TrainSchedule): StudySchedule {
  return {
    id: schedule,
    note: `the app's \`${schedule}\` schedule`,
    // The schedule is named, so the class count (which only picks the default) does not matter.
    run: (shots, n) => trainerSchedule(resolveSchedule({ schedule, classes: 0, shots, trainImages: n })),
  };
}

/** Whole training set as one batch, CoOp's epochs for the shots, SGD (momentum `momentum`) at `lr(n)`. */
function fullBatchSgd(
  id: string,
  note: string,
  lr: (n: number) => number,
  momentum = 0.9,
  epochs = defaultEpochs,
): StudySchedule {
  return {
    id,
    note,
    run: (shots, n) => ({
      epochs: epochs(shots),
      batchSize: n,
      schedule: { baseLr: lr(n), warmupEpochs: 1, warmupLr: 1e-5 },
      optimizer: 'sgd',
      sgd: { momentum, weightDecay: 5e-4 },
    }),
  };
}

/** Batches of `batch` images (the last incomplete one dropped), CoOp's epochs x `times`, `optimizer` at `lr`. */
function batched(id: string, batch: number, optimizer: 'sgd' | 'adam', lr: number, times = 1): StudySchedule {
  return {
    id,
    note: `batches of ${batch}, ${optimizer === 'adam' ? 'Adam' : 'SGD'} lr ${lr}, CoOp's epochs${times !== 1 ? ` x ${times}` : ''}`,
    run: (shots) => ({
      epochs: defaultEpochs(shots) * times,
      batchSize: batch,
      schedule: { baseLr: lr, warmupEpochs: 1, warmupLr: 1e-5 },
      optimizer,
      sgd: { momentum: 0.9, weightDecay: 5e-4 },
      adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 5e-4 },
    }),
  };
}

/** Half of CoOp's epochs for the shots. */
const halfEpochs = (shots: number) => defaultEpochs(shots) / 2;

/** Whole training set as one batch, Adam at `lr`, `epochs` (described by `epochsNote`). */
function fullBatchAdam(id: string, lr: number, epochs = defaultEpochs, epochsNote = "CoOp's epochs"): StudySchedule {
  return {
    id,
    note: `full batch, Adam lr ${lr}, ${epochsNote}`,
    run: (shots, n) => ({
      epochs: epochs(shots),
      batchSize: n,
      schedule: { baseLr: lr, warmupEpochs: 1, warmupLr: 1e-5 },
      optimizer: 'adam',
      adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 5e-4 },
    }),
  };
}

/** Every schedule the study knows, by id. */
export const STUDY_SCHEDULES: StudySchedule[] = [
  shipped('paper'),
  shipped('fast'),
  fullBatchSgd('full-sgd', 'full batch, SGD lr 0.002, CoOp epochs', () => 0.002),
  fullBatchSgd(
    'full-sgd-sqrt',
    'full batch, SGD lr 0.002 x sqrt(n / 32)',
    (n) => 0.002 * Math.sqrt(Math.max(1, n / 32)),
  ),
  fullBatchSgd('full-sgd-lin', 'full batch, SGD lr 0.002 x n / 32', (n) => 0.002 * Math.max(1, n / 32)),
  fullBatchAdam('full-adam-2e-3', 0.002),
  fullBatchAdam('full-adam-5e-3', 0.005),
  fullBatchAdam('full-adam-1e-2', 0.01),
  fullBatchAdam('half-adam-5e-3', 0.005, halfEpochs, 'half of CoOp’s epochs'),
  fullBatchAdam('half-adam-1e-2', 0.01, halfEpochs, 'half of CoOp’s epochs'),
  fullBatchAdam('x2-adam-5e-3', 0.005, (s) => defaultEpochs(s) * 2, 'CoOp’s epochs x 2'),
  fullBatchAdam('x4-adam-5e-3', 0.005, (s) => defaultEpochs(s) * 4, 'CoOp’s epochs x 4'),
  fullBatchSgd(
    'x4-sgd',
    'full batch, SGD lr 0.002, CoOp epochs x 4',
    () => 0.002,
    0.9,
    (s) => defaultEpochs(s) * 4,
  ),
  batched('b128-adam-2e-3', 128, 'adam', 0.002),
  batched('b128-sgd', 128, 'sgd', 0.002),
  fullBatchSgd('half-sgd-4e-3', 'full batch, SGD lr 0.004, half of CoOp’s epochs', () => 0.004, 0.9, halfEpochs),
];
