/**
 * @file `projectReadiness`: the split a Learn run would take on a project, per class, before it runs (engine
 * worker, plain Node).
 *
 * It reads the project exactly as `learn` does (run-source.ts: usable images, pins, missing files checked) and applies
 * the same shot rule (see [Note: small datasets] in train/shot-plan.ts), so what it says is what the run will do.
 */
import { UNASSIGNED_CLASS, type ClassReadiness, type ProjectReadiness } from '../../../shared/contract/projects';
import { defaultEpochs, MIN_IMAGES_PER_CLASS } from '../../../shared/contract/train';
import { storeDb } from '../store/db';
import { listClasses } from '../store/projects-repo';
import { planShots, shotNotes } from '../train/shot-plan';
import { loadRunSource } from './run-source';

/** Readiness of a project for a run with `shots` and `seed`. */
export async function projectReadiness(
  dataDir: string,
  projectId: number,
  shots: number,
  seed: number,
): Promise<ProjectReadiness> {
  const src = await loadRunSource({ project: projectId }, dataDir);
  const all = listClasses(storeDb(dataDir), projectId);
  const usable = src.classes;
  const plan = usable.length
    ? planShots(
        usable.map((c) => c.files),
        { shots, seed, pinned: usable.map((c) => c.pinned ?? {}) },
      )
    : null;
  const count = (items: { label: number }[] | undefined, label: number) =>
    items?.filter((t) => t.label === label).length ?? 0;
  const classes: ClassReadiness[] = all
    .filter((c) => c.folderName !== UNASSIGNED_CLASS)
    .map((info) => {
      const i = usable.findIndex((c) => c.classId === info.id);
      const images = i < 0 ? 0 : (usable[i]?.files.length ?? 0);
      const train = count(plan?.split.train, i);
      const val = count(plan?.split.val, i);
      const test = count(plan?.split.test, i);
      const problem =
        images === 0
          ? 'no_images'
          : images < MIN_IMAGES_PER_CLASS
            ? 'too_few_images'
            : test === 0
              ? 'no_test_images'
              : null;
      return {
        classId: info.id,
        name: info.prompt,
        folderName: info.folderName,
        images,
        train,
        val,
        test,
        ready: problem === null && val > 0,
        problem,
      };
    });
  const unassigned = all.find((c) => c.folderName === UNASSIGNED_CLASS);
  const problems: ProjectReadiness['problems'] = [];
  if (usable.length < 2)
    problems.push({
      reason: 'too_few_classes',
      message: `A run needs two classes or more with usable images; this project has ${usable.length}.`,
    });
  else if (plan && plan.split.test.length === 0)
    problems.push({
      reason: 'no_test_images',
      message: `No image is left for testing: every class is used up (a class needs ${MIN_IMAGES_PER_CLASS} usable images: one to learn from, one to validate, one to test).`,
    });
  const used = plan?.shots ?? shots;
  return {
    projectId,
    requestedShots: shots,
    shots: used,
    seed,
    epochs: defaultEpochs(used),
    minImagesPerClass: MIN_IMAGES_PER_CLASS,
    classes,
    unassigned: unassigned ? unassigned.images - unassigned.excluded : 0,
    canLearn: problems.length === 0,
    ready: problems.length === 0 && classes.every((c) => c.ready),
    notes: plan
      ? shotNotes(
          plan,
          usable.map((c) => c.label),
          usable.map((c) => c.files.length),
        )
      : [],
    problems,
  };
}
