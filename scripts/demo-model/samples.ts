/**
 * @file The sample few-shot tasks shipped in resources/samples (build script, plain Node).
 *
 * [Note: demo sample tasks] Each task pins one scene attribute per class and draws everything else
 * at random. Both tasks ask for the background pattern, an attribute the captions name in about
 * half of the cases and always as "on a ... background", while colour and shape dominate them.
 * `backgrounds` names the classes with the captions' own words, so "a photo of a striped." is a
 * fair but imperfect prompt. `patterns` names the same five classes as a user might ("stripes",
 * "polka dots", "checkerboard", "lattice", "blank"): words the model never saw in a caption, so the
 * hand-written prompt is poor while the image features separate the classes just as well; this is
 * the gap CoOp closes on real datasets (textures, satellite images). The demo model did not learn
 * shapes, counts or positions well enough for a task (a ridge probe on its image features is near
 * chance for them: measured while choosing these tasks, see resources/README.md).
 *
 * [Note: demo shifted samples] `backgrounds-sketch` and `backgrounds-noisy` hold the five `backgrounds` classes under
 * the same folder names, drawn in another style (see [Note: rendering styles] in world.ts): test sets for domain shift
 * (learn on `backgrounds`, test there), as ImageNet-Sketch and the noisy copies are for ImageNet. Measured while
 * choosing the styles (demo model, zero-shot / CoOp 16 shots seed 1 learned on `backgrounds`): sketch 0.99 / 0.99
 * (the hand-written prompt is already strong there, and the learned context does not beat it), noisy 0.80 / 0.87. A
 * colour task and a colour x background task were tried for base-to-new and dropped: the demo model's zero-shot is
 * 100% on both, so nothing can be learned or lost; base-to-new runs on the five-class tasks (3 base, 2 new classes).
 */
import { Rng } from './rng';
import { type Background, BACKGROUNDS, type RenderStyle, type Scene, type ScenePins, randomScene } from './world';

/** Everyday names of the background patterns (folder name, background); see [Note: demo sample tasks]. */
const PATTERN_NAMES: [string, Background][] = [
  ['blank', 'plain'],
  ['stripes', 'striped'],
  ['polka_dots', 'dotted'],
  ['checkerboard', 'checkered'],
  ['lattice', 'grid'],
];

/** One class of a sample task: folder name and the scene attributes its images share. */
export interface SampleClass {
  name: string;
  pins: ScenePins;
}

/** A sample task: folder name, classes and images per class. */
export interface SampleTask {
  name: string;
  description: string;
  classes: SampleClass[];
  perClass: number;
  /** How its images are drawn (`photo`, the training domain, when absent). */
  style?: RenderStyle;
  /** For a domain-shift test set: the task whose classes (same folder names) it shows in another style. */
  shiftOf?: string;
}

/** The `backgrounds` classes (also the classes of its shifted test sets). */
const BACKGROUND_CLASSES: SampleClass[] = BACKGROUNDS.map((b) => ({ name: b, pins: { background: b } }));

/** The tasks `npm run build:demo-model` writes. */
export const SAMPLE_TASKS: SampleTask[] = [
  {
    name: 'backgrounds',
    description: 'Which background pattern is behind the objects (5 classes).',
    classes: BACKGROUND_CLASSES,
    perClass: 50,
  },
  {
    name: 'patterns',
    description: 'The same background patterns under everyday names the captions never use (5 classes).',
    classes: PATTERN_NAMES.map(([name, background]) => ({ name, pins: { background } })),
    perClass: 50,
  },
  {
    name: 'backgrounds-sketch',
    description:
      'The backgrounds classes as pencil sketches: a domain-shift test set (see [Note: demo shifted samples]).',
    classes: BACKGROUND_CLASSES,
    perClass: 24,
    style: 'sketch',
    shiftOf: 'backgrounds',
  },
  {
    name: 'backgrounds-noisy',
    description: 'The backgrounds classes under strong sensor noise: a domain-shift test set.',
    classes: BACKGROUND_CLASSES,
    perClass: 24,
    style: 'noisy',
    shiftOf: 'backgrounds',
  },
];

/** The scenes of one task, deterministic from the seed (class by class, image by image). */
export function taskScenes(task: SampleTask, seed: number): { className: string; scenes: Scene[] }[] {
  let salt = 0;
  for (const ch of task.name) salt = (salt * 31 + ch.charCodeAt(0)) >>> 0;
  const rng = new Rng(seed ^ salt);
  return task.classes.map((cls) => ({
    className: cls.name,
    scenes: Array.from({ length: task.perClass }, () => randomScene(rng, cls.pins)),
  }));
}
