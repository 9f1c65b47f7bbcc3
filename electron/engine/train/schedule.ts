/**
 * @file CoOp's learning-rate schedule: one constant warm-up epoch, then cosine decay (engine; pure TypeScript).
 *
 * [Note: warm-up schedule] CoOp uses Dassl's `ConstantWarmupScheduler(successor=CosineAnnealingLR(T_max=epochs),
 * warmup_epoch=1, cons_lr=1e-5)`, stepped once after every epoch. Tracing its code: epoch 0 runs at `cons_lr`; epoch 1
 * runs at the cosine schedule's step 0 (the full base lr), and epoch e >= 1 at step e - 1, so the last epoch never
 * reaches zero. We reproduce exactly that, including the one-epoch shift of the cosine.
 */
import type { ScheduleSettings } from '../../../shared/contract/train';

/** The optimiser settings of the CoOp recipe. */
export interface ScheduleOptions {
  baseLr: number;
  epochs: number;
  warmupEpochs: number;
  warmupLr: number;
}

/** CoOp's defaults (lr 0.002, 1 warm-up epoch at 1e-5); `epochs` comes from the shot count. */
export const COOP_SCHEDULE: Omit<ScheduleOptions, 'epochs'> = { baseLr: 0.002, warmupEpochs: 1, warmupLr: 1e-5 };

/** The learning rate of epoch `epoch` (0-based); see [Note: warm-up schedule]. */
export function learningRate(epoch: number, opts: ScheduleOptions): number {
  if (epoch < opts.warmupEpochs) return opts.warmupLr;
  const t = epoch - opts.warmupEpochs;
  return (opts.baseLr * (1 + Math.cos((Math.PI * t) / opts.epochs))) / 2;
}

/** The trainer's options for a resolved schedule (see [Note: schedules] in shared/contract/train.ts). */
export function trainerSchedule(s: ScheduleSettings): {
  epochs: number;
  batchSize: number;
  schedule: Omit<ScheduleOptions, 'epochs'>;
  optimizer: 'sgd' | 'adam';
  sgd: { momentum: number; weightDecay: number };
  adam: { beta1: number; beta2: number; eps: number; weightDecay: number };
} {
  return {
    epochs: s.epochs,
    batchSize: s.batchSize,
    schedule: { baseLr: s.lr, warmupEpochs: s.warmupEpochs, warmupLr: s.warmupLr },
    optimizer: s.optimizer,
    sgd: { momentum: s.momentum, weightDecay: s.weightDecay },
    adam: { beta1: s.momentum, beta2: 0.999, eps: 1e-8, weightDecay: s.weightDecay },
  };
}
