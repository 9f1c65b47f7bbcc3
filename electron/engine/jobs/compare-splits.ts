/**
 * @file The splits of a `compare` sweep: one per shot count and seed, each the split `learn` takes with the same shots
 * and seed, with the small-dataset rule applied (engine worker, plain Node).
 *
 * [Note: compare splits] A shot count the dataset is too small for is stepped down as `learn` steps it down (see
 * [Note: small datasets] in train/shot-plan.ts); when the count it steps down to is already in the sweep, it is
 * skipped with the reason instead of being run twice. A project's pinned images stay pinned, as in `learn`, so a
 * CoOp row of `compare` and a Learn run with the same shots and seed train and test on the same images; every split is
 * described in the result (`splits`, `splitNote`) so a front end can say where each number comes from and why it can
 * differ from a Learn run (another seed, or the mean over seeds).
 */
import type { CompareResult, CompareSplit } from '../../../shared/contract/methods';
import type { RunNote } from '../../../shared/contract/train';
import { planShots, shotNotes } from '../train/shot-plan';
import { fewShotSplit, type FewShotSplit } from '../train/splits';

/** One split of the sweep. */
export interface SweepSplit {
  shots: number;
  seed: number;
  split: FewShotSplit;
}

/** Every split of a sweep, what was skipped and why, and what was decided for the user. */
export interface SweepPlan {
  splits: SweepSplit[];
  described: CompareSplit[];
  /** The shot counts that run, ascending. */
  shots: number[];
  skipped: CompareResult['skipped'];
  notes: RunNote[];
  splitNote: string;
}

/** Plans the sweep (see [Note: compare splits]); `shotsList` ascending. */
export function sweepSplits(
  classes: { label: string; files: string[]; pinned?: { train?: string[]; val?: string[]; test?: string[] } }[],
  opts: { shotsList: number[]; seeds: number[]; testFiles?: string[][] | undefined; pinned: boolean },
): SweepPlan {
  const files = classes.map((c) => c.files);
  const base = {
    ...(opts.testFiles ? { testFiles: opts.testFiles } : {}),
    ...(opts.pinned ? { pinned: classes.map((c) => c.pinned ?? {}) } : {}),
  };
  const out: SweepPlan = { splits: [], described: [], shots: [], skipped: [], notes: [], splitNote: '' };
  for (const requested of opts.shotsList) {
    const plan = planShots(files, { ...base, shots: requested, seed: opts.seeds[0] ?? 1 });
    if (plan.split.test.length === 0) {
      out.skipped.push({
        shots: requested,
        reason: 'no image is left for testing after the shots and the validation images',
      });
      continue;
    }
    if (plan.capped && out.shots.includes(plan.shots)) {
      out.skipped.push({
        shots: requested,
        reason: `the smallest class leaves room for ${plan.shots} shots (with validation and test images), which the sweep already runs`,
      });
      continue;
    }
    out.shots.push(plan.shots);
    for (const n of shotNotes(
      plan,
      classes.map((c) => c.label),
      files.map((f) => f.length),
    ))
      if (!out.notes.some((x) => x.message === n.message)) out.notes.push(n);
    for (const seed of opts.seeds) {
      const split = seed === opts.seeds[0] ? plan.split : fewShotSplit(files, { ...base, shots: plan.shots, seed });
      out.splits.push({ shots: plan.shots, seed, split });
      out.described.push({
        shots: plan.shots,
        requestedShots: requested,
        seed,
        train: split.train.length,
        val: split.val.length,
        test: split.test.length,
        pinned: opts.pinned,
      });
    }
  }
  const seeds = opts.seeds.join(', ');
  out.splitNote =
    `Each row is one shot count and seed: the split a Learn run with the same shots and seed takes (the same training, validation and test images${opts.pinned ? ', pinned images included' : ''}). ` +
    `The table shows the mean over seed${opts.seeds.length > 1 ? 's' : ''} ${seeds}, so it can differ from a single Learn run with another seed or other settings.`;
  return out;
}
