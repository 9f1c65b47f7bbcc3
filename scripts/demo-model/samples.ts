/**
 * @file The sample few-shot tasks shipped in resources/samples (build script, plain Node).
 *
 * [Note: demo sample tasks] Each task pins one scene attribute per class and draws everything else
 * at random. `backgrounds` asks for the background pattern, which captions mention only in about
 * 30% of cases and always as "on a ... background", so "a photo of a striped." is a poor prompt:
 * zero-shot is well below what 16 labelled shots can teach (CoOp's textures/DTD situation).
 * `hollow-shapes` asks for the shape of outline-only drawings, a style the captions rarely name:
 * zero-shot is good but imperfect.
 */
import { Rng } from './rng';
import { BACKGROUNDS, type Scene, type ScenePins, SHAPES, randomScene } from './world';

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
}

/** The tasks `npm run build:demo-model` writes. */
export const SAMPLE_TASKS: SampleTask[] = [
  {
    name: 'backgrounds',
    description: 'Which background pattern is behind the objects (5 classes).',
    classes: BACKGROUNDS.map((b) => ({ name: b, pins: { background: b } })),
    perClass: 50,
  },
  {
    name: 'hollow-shapes',
    description: 'Which shape, drawn as an outline only (6 classes).',
    classes: SHAPES.map((s) => ({ name: s, pins: { shape: s, style: 'hollow' } })),
    perClass: 50,
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
