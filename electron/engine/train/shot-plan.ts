/**
 * @file How many shots a run takes on the dataset it has: the rule for small datasets (engine; pure TypeScript).
 *
 * [Note: small datasets] CoOp's defaults (16 shots, then min(16, 4) validation images per class) need 21 images per
 * class before a single one is left for testing, and people bring 10 to 30. So when no separate test folder is given,
 * `learn` and `compare` take the shots asked for only when every class of at least MIN_IMAGES_PER_CLASS images keeps
 * a test set of at least a quarter of its images (`minTestImages`); otherwise they step down the paper's shot counts
 * (16, 8, 4, 2, 1) to the first that does, and say so in a note. 5 classes x 20 images: 8 shots, 4 validation and 8
 * test images per class. A class below MIN_IMAGES_PER_CLASS cannot be tested at any shot count; it does not pull the
 * others down, and the run notes it. With a separate test folder the shots are what was asked for (classes with fewer
 * images train on all of them, as in the paper). Pinned images (see [Note: pinned splits]) stay where they are pinned.
 */
import { count } from '../../../shared/words';
import { MIN_IMAGES_PER_CLASS, minTestImages, SHOT_STEPS, type RunNote } from '../../../shared/contract/train';
import { fewShotSplit, type FewShotSplit, type SplitOptions } from './splits';

/** The shots a run takes and the split they give. */
export interface ShotPlan {
  requested: number;
  shots: number;
  /** True when `shots` < `requested` (see [Note: small datasets]). */
  capped: boolean;
  split: FewShotSplit;
  /** Index of the class that limited the shots (the smallest class that needed fewer), or null. */
  limitingClass: number | null;
  /** Indices of classes left without test images. */
  withoutTest: number[];
}

/** Test images per class of a split. */
function testCounts(split: FewShotSplit, classes: number): number[] {
  const n = new Array<number>(classes).fill(0);
  for (const t of split.test) n[t.label] = (n[t.label] ?? 0) + 1;
  return n;
}

/** Classes (of at least MIN_IMAGES_PER_CLASS images) whose test set is below `minTestImages` in this split. */
function shortOfTest(classFiles: readonly (readonly string[])[], split: FewShotSplit): number[] {
  const tests = testCounts(split, classFiles.length);
  return classFiles.flatMap((files, c) =>
    files.length >= MIN_IMAGES_PER_CLASS && (tests[c] ?? 0) < minTestImages(files.length) ? [c] : [],
  );
}

/** Chooses the shots and the split (see [Note: small datasets]); `opts.shots` is the number asked for. */
export function planShots(classFiles: readonly (readonly string[])[], opts: SplitOptions): ShotPlan {
  const requested = opts.shots;
  const candidates = opts.testFiles ? [requested] : [requested, ...SHOT_STEPS.filter((s) => s < requested)];
  let limitingClass: number | null = null;
  let chosen: { shots: number; split: FewShotSplit } | null = null;
  for (const shots of candidates) {
    const split = fewShotSplit(classFiles, { ...opts, shots });
    chosen = { shots, split };
    const short = shortOfTest(classFiles, split);
    if (short.length === 0) break;
    if (shots === requested)
      limitingClass = short.reduce((a, b) => ((classFiles[b]?.length ?? 0) < (classFiles[a]?.length ?? 0) ? b : a));
  }
  if (!chosen) throw new RangeError('no shot count to try');
  const tests = testCounts(chosen.split, classFiles.length);
  return {
    requested,
    shots: chosen.shots,
    capped: chosen.shots < requested,
    split: chosen.split,
    limitingClass: chosen.shots < requested ? limitingClass : null,
    withoutTest: tests.flatMap((n, c) => (n === 0 ? [c] : [])),
  };
}

const listNames = (names: string[]) =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;

/** What a plan decided, as notes for people (`labels` are the classes' display names, in plan order). */
export function shotNotes(plan: ShotPlan, labels: readonly string[], sizes: readonly number[]): RunNote[] {
  const notes: RunNote[] = [];
  if (plan.capped) {
    const c = plan.limitingClass ?? sizes.indexOf(Math.min(...sizes));
    const name = labels[c] ?? String(c);
    const n = sizes[c] ?? 0;
    notes.push({
      code: 'shots_capped',
      message: `${count(plan.shots, 'shot')} per class instead of ${plan.requested}: "${name}" has ${n} usable images, and ${plan.requested} shots would leave too few of them for validation and testing.`,
      requested: plan.requested,
      used: plan.shots,
      smallestClass: name,
      smallestImages: n,
    });
  }
  if (plan.withoutTest.length > 0) {
    const names = plan.withoutTest.map((c) => labels[c] ?? String(c));
    const one = names.length === 1;
    notes.push({
      code: 'classes_without_test',
      message: `${listNames(names.map((x) => `"${x}"`))} ${one ? 'has' : 'have'} no test image (a class needs ${MIN_IMAGES_PER_CLASS} usable images: one to learn from, one to validate, one to test), so ${one ? 'its' : 'their'} accuracy cannot be measured.`,
      classes: names,
      minImagesPerClass: MIN_IMAGES_PER_CLASS,
    });
  }
  return notes;
}
