/**
 * @file The few-shot tasks of the schedule study, as cached CLIP features (study script, plain Node with tsx).
 *
 * [Note: study worlds] Two kinds of synthetic world, both seen through the embedded demo CLIP:
 * - `scenes`: pictures of the demo model's own world (`scripts/demo-model/world.ts`), rendered, PNG-encoded and
 *   embedded by the app's image pipeline (ONNX Runtime). A class pins scene attributes (background; colour and
 *   background; size, style, colour and background), everything else is drawn at random. The model learned colours
 *   and backgrounds well and size and style only partly, so the tasks range from easy (5 backgrounds) to hard (100
 *   classes, where many pairs differ only in size or style).
 * - `hidden`: the image feature of a class-c picture is the demo model's text feature of a hidden prompt for c (caption
 *   words around the class name, e.g. "there is one {} on a grid background") plus Gaussian noise, so a learned
 *   context can beat the hand-written "a photo of a {}." by finding the hidden words. Class names combine shape,
 *   colour, size and style words, which the text side of the demo model knows; the noise sets the difficulty.
 * Every task draws its images (or noise) from its own seed; the few-shot split then draws from the run's seed.
 */
import sharp from 'sharp';
import type { ClipModel } from '../../electron/engine/clip/clip-model';
import { normalised } from '../../electron/engine/features/features';
import { Rng } from '../demo-model/rng';
import { SAMPLE_TASKS } from '../demo-model/samples';
import {
  BACKGROUNDS,
  COLOURS,
  SHAPES,
  SIZES,
  STYLES,
  type ScenePins,
  randomScene,
  renderScene,
} from '../demo-model/world';

/** One class of a task: its prompt text and the L2-normalised features of all its images. */
export interface TaskClass {
  name: string;
  features: Float32Array[];
}

/** A task ready for training: classes with cached features. */
export interface StudyTask {
  id: string;
  world: 'scenes' | 'hidden';
  description: string;
  classes: TaskClass[];
}

/** How a task is made (see [Note: study worlds]). */
export type TaskSpec =
  | { id: string; world: 'scenes'; description: string; perClass: number; classes: { name: string; pins: ScenePins }[] }
  | {
      id: string;
      world: 'hidden';
      description: string;
      perClass: number;
      /** Class names (prompt texts). */
      names: string[];
      /** The hidden prompt, `{}` for the class name. */
      hidden: string;
      /** Standard deviation of the noise added to the unit hidden-prompt feature, per sqrt(dimension). */
      noise: number;
      seed: number;
    };

const COLOUR_NAMES = Object.keys(COLOURS) as (keyof typeof COLOURS)[];

/** Classes pinning size, style, colour and background: 140 combinations, `n` of them drawn with a fixed seed. */
function fineSceneClasses(n: number): { name: string; pins: ScenePins }[] {
  const all: { name: string; pins: ScenePins }[] = [];
  for (const size of SIZES)
    for (const style of STYLES)
      for (const colour of COLOUR_NAMES)
        for (const background of BACKGROUNDS)
          all.push({ name: `${size} ${style} ${colour} on ${background}`, pins: { size, style, colour, background } });
  return new Rng(17).shuffle(all).slice(0, n);
}

/** `n` distinct object names of the `hidden` world from the last `attributes` of size, style, colour and shape. */
function objectNames(n: number, attributes: 2 | 3 | 4, seed: number): string[] {
  const lists: readonly (readonly string[])[] = [SIZES, STYLES, COLOUR_NAMES, SHAPES].slice(4 - attributes);
  let names = [''];
  for (const list of lists) names = names.flatMap((prefix) => list.map((w) => (prefix ? `${prefix} ${w}` : w)));
  return new Rng(seed).shuffle(names).slice(0, n);
}

/** The study's tasks (see [Note: study worlds]). */
export function studyTasks(): TaskSpec[] {
  return [
    {
      id: 'backgrounds-5',
      world: 'scenes',
      description: 'background pattern, named with the captions’ words',
      perClass: 80,
      classes: BACKGROUNDS.map((b) => ({ name: b, pins: { background: b } })),
    },
    {
      id: 'patterns-5',
      world: 'scenes',
      description: 'background pattern, everyday names the captions never use',
      perClass: 80,
      classes: (SAMPLE_TASKS.find((t) => t.name === 'patterns')?.classes ?? []).map((c) => ({
        name: c.name.replace(/_/g, ' '),
        pins: c.pins,
      })),
    },
    {
      id: 'colour-bg-35',
      world: 'scenes',
      description: 'colour and background of the objects',
      perClass: 40,
      classes: COLOUR_NAMES.flatMap((colour) =>
        BACKGROUNDS.map((background) => ({ name: `${colour} on ${background}`, pins: { colour, background } })),
      ),
    },
    {
      id: 'fine-100',
      world: 'scenes',
      description: 'size, style, colour and background (100 of the 140 combinations)',
      perClass: 40,
      classes: fineSceneClasses(100),
    },
    {
      id: 'hidden-10',
      world: 'hidden',
      description: 'hidden prompt "this is a {} on a dotted background" + noise 0.5, colour and shape names',
      perClass: 60,
      names: objectNames(10, 2, 101),
      hidden: 'this is a {} on a dotted background',
      noise: 0.5,
      seed: 101,
    },
    {
      id: 'hidden-35',
      world: 'hidden',
      description: 'hidden prompt "an image of a {} at the top" + noise 0.2, size, colour and shape names',
      perClass: 40,
      names: objectNames(35, 3, 104),
      hidden: 'an image of a {} at the top',
      noise: 0.2,
      seed: 104,
    },
    {
      id: 'hidden-50',
      world: 'hidden',
      description: 'hidden prompt "a drawing of two {} in the middle" + noise 0.2, size, colour and shape names',
      perClass: 40,
      names: objectNames(50, 3, 102),
      hidden: 'a drawing of two {} in the middle',
      noise: 0.2,
      seed: 102,
    },
    {
      id: 'hidden-100',
      world: 'hidden',
      description: 'hidden prompt "there is one {} on a grid background" + noise 0.15, size, style, colour and shape',
      perClass: 40,
      names: objectNames(100, 4, 103),
      hidden: 'there is one {} on a grid background',
      noise: 0.15,
      seed: 103,
    },
  ];
}

async function sceneTask(model: ClipModel, spec: Extract<TaskSpec, { world: 'scenes' }>): Promise<StudyTask> {
  let salt = 0;
  for (const ch of spec.id) salt = (salt * 31 + ch.charCodeAt(0)) >>> 0;
  const rng = new Rng(salt);
  const size = model.info.preprocess.cropWidth;
  const classes: TaskClass[] = [];
  for (const cls of spec.classes) {
    const pngs = await Promise.all(
      Array.from({ length: spec.perClass }, () => randomScene(rng, cls.pins)).map(
        async (scene) =>
          new Uint8Array(
            await sharp(Buffer.from(renderScene(scene, size)), { raw: { width: size, height: size, channels: 3 } })
              .png()
              .toBuffer(),
          ),
      ),
    );
    const emb = await model.embedImages(pngs.map((data) => ({ data })));
    if (emb.errors.length > 0) throw new Error(`embedding failed: ${emb.errors[0]?.reason ?? ''}`);
    classes.push({ name: cls.name, features: emb.embeddings.map((e) => normalised(e as Float32Array)) });
  }
  return { id: spec.id, world: 'scenes', description: spec.description, classes };
}

async function hiddenTask(model: ClipModel, spec: Extract<TaskSpec, { world: 'hidden' }>): Promise<StudyTask> {
  const rng = new Rng(spec.seed);
  const centres = (await model.embedText(spec.names.map((n) => spec.hidden.replace('{}', n)))).map(normalised);
  const dim = centres[0]?.length ?? 0;
  const classes = spec.names.map((name, c) => ({
    name,
    features: Array.from({ length: spec.perClass }, () =>
      normalised(
        Float32Array.from(centres[c] as Float32Array, (x) => x + (spec.noise * rng.normal()) / Math.sqrt(dim)),
      ),
    ),
  }));
  return { id: spec.id, world: 'hidden', description: spec.description, classes };
}

/** Builds the features of a task. */
export async function buildTask(model: ClipModel, spec: TaskSpec): Promise<StudyTask> {
  return spec.world === 'scenes' ? sceneTask(model, spec) : hiddenTask(model, spec);
}
