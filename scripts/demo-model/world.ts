/**
 * @file The synthetic image-text world the demo CLIP learns from (build script, plain Node).
 *
 * A scene is one to three copies of a shape with a colour, size, position, drawing style and a
 * patterned background. `renderScene` draws it as RGB bytes (2x2 supersampled, so edges are
 * anti-aliased like a downscaled photo), and `captionScene` describes it in varied English.
 *
 * [Note: demo world captions] Captions always name the shape, usually the colour (85%), the
 * background in half of them ("on a striped background"), and only sometimes the count, size,
 * position or drawing style. Trained for the build's budget, the model learns colours and
 * backgrounds well and shapes, counts and positions hardly at all (a 2-layer ViT on 48-pixel
 * images with 8-pixel patches), which is what the sample tasks of `samples.ts` build on. The
 * background rate was raised from 30% after a 900-step model learned no background at all.
 */
import { type Rng } from './rng';

/** Shape names as captions spell them (singular). */
export const SHAPES = ['circle', 'square', 'triangle', 'star', 'cross', 'diamond'] as const;
/** Object colours with their RGB values. */
export const COLOURS = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [240, 210, 30],
  purple: [140, 50, 180],
  orange: [245, 140, 20],
  black: [25, 25, 25],
} as const satisfies Record<string, readonly [number, number, number]>;
/** Background patterns. */
export const BACKGROUNDS = ['plain', 'striped', 'dotted', 'checkered', 'grid'] as const;
/** Object sizes. */
export const SIZES = ['small', 'large'] as const;
/** Drawing styles: filled or only the outline. */
export const STYLES = ['solid', 'hollow'] as const;
/** Positions of a single object. */
export const POSITIONS = ['center', 'left', 'right', 'top', 'bottom'] as const;

/** A shape name. */
export type Shape = (typeof SHAPES)[number];
/** A colour name. */
export type Colour = keyof typeof COLOURS;
/** A background pattern. */
export type Background = (typeof BACKGROUNDS)[number];

/** Everything that determines one picture. */
export interface Scene {
  shape: Shape;
  colour: Colour;
  count: 1 | 2 | 3;
  size: (typeof SIZES)[number];
  style: (typeof STYLES)[number];
  position: (typeof POSITIONS)[number];
  background: Background;
  /** Pale background tint (RGB) and pattern phase/scale, drawn at random. */
  tint: [number, number, number];
  patternScale: number;
  patternPhase: number;
  /** Object centres and radii as fractions of the image side. */
  objects: { x: number; y: number; r: number }[];
  noiseSeed: number;
}

/** Constraints a sample task puts on the scenes it draws (unset fields are random). */
export type ScenePins = Partial<
  Pick<Scene, 'shape' | 'colour' | 'count' | 'size' | 'style' | 'position' | 'background'>
>;

const TINTS: [number, number, number][] = [
  [235, 235, 235],
  [245, 235, 215],
  [215, 235, 245],
  [225, 245, 220],
  [245, 225, 235],
];

/** Draws a random scene, optionally pinning some attributes. */
export function randomScene(rng: Rng, pins: ScenePins = {}): Scene {
  const count = pins.count ?? (rng.chance(0.6) ? 1 : rng.chance(0.5) ? 2 : 3);
  const size = pins.size ?? (count === 1 ? rng.pick(SIZES) : 'small');
  const position = pins.position ?? (count === 1 ? rng.pick(POSITIONS) : 'center');
  const base = size === 'large' ? 0.26 : 0.14;
  const objects: Scene['objects'] = [];
  if (count === 1) {
    const off = size === 'large' ? 0.2 : 0.27;
    const [dx, dy] =
      position === 'left'
        ? [-off, 0]
        : position === 'right'
          ? [off, 0]
          : position === 'top'
            ? [0, -off]
            : position === 'bottom'
              ? [0, off]
              : [0, 0];
    objects.push({
      x: 0.5 + dx + rng.uniform(-0.04, 0.04),
      y: 0.5 + dy + rng.uniform(-0.04, 0.04),
      r: base * rng.uniform(0.9, 1.1),
    });
  } else {
    // Place copies on a jittered ring so they rarely overlap.
    const start = rng.uniform(0, 2 * Math.PI);
    for (let i = 0; i < count; i++) {
      const a = start + (2 * Math.PI * i) / count;
      objects.push({ x: 0.5 + 0.26 * Math.cos(a), y: 0.5 + 0.26 * Math.sin(a), r: base * rng.uniform(0.9, 1.1) });
    }
  }
  return {
    shape: pins.shape ?? rng.pick(SHAPES),
    colour: pins.colour ?? rng.pick(Object.keys(COLOURS) as Colour[]),
    count: count as Scene['count'],
    size,
    style: pins.style ?? (rng.chance(0.7) ? 'solid' : 'hollow'),
    position,
    background: pins.background ?? rng.pick(BACKGROUNDS),
    tint: rng.pick(TINTS),
    patternScale: rng.uniform(0.8, 1.25),
    patternPhase: rng.uniform(0, 1),
    objects,
    noiseSeed: rng.int(0x7fffffff),
  };
}

/** Whether a point (in the shape's unit frame, radius 1) is inside the shape. */
function insideShape(shape: Shape, x: number, y: number): boolean {
  switch (shape) {
    case 'circle':
      return x * x + y * y < 1;
    case 'square':
      return Math.abs(x) < 0.82 && Math.abs(y) < 0.82;
    case 'diamond':
      return Math.abs(x) + Math.abs(y) < 1.05;
    case 'triangle':
      return y < 0.7 && y > -1 + 1.7 * Math.abs(x) * 1.0;
    case 'cross':
      return (Math.abs(x) < 0.3 && Math.abs(y) < 0.95) || (Math.abs(y) < 0.3 && Math.abs(x) < 0.95);
    case 'star': {
      const r = Math.hypot(x, y);
      const a = Math.atan2(y, x) + Math.PI / 2;
      const k = Math.abs((((((a * 5) / (2 * Math.PI)) % 1) + 1) % 1) - 0.5) * 2; // 1 at tips, 0 between
      return r < 0.45 + 0.6 * k * k;
    }
  }
}

/** Background pattern value in [0, 1] (1 = pattern ink) at pixel (u, v) in image fractions. */
function patternInk(scene: Scene, u: number, v: number): number {
  const s = scene.patternScale;
  const p = scene.patternPhase;
  switch (scene.background) {
    case 'plain':
      return 0;
    case 'striped':
      return ((u + v) * 6 * s + p) % 1 < 0.45 ? 1 : 0;
    case 'dotted': {
      const fx = ((u * 7 * s + p) % 1) - 0.5;
      const fy = ((v * 7 * s + p) % 1) - 0.5;
      return fx * fx + fy * fy < 0.07 ? 1 : 0;
    }
    case 'checkered':
      return (Math.floor(u * 5 * s + p) + Math.floor(v * 5 * s + p)) % 2 === 0 ? 1 : 0;
    case 'grid':
      return (u * 6 * s + p) % 1 < 0.15 || (v * 6 * s + p) % 1 < 0.15 ? 1 : 0;
  }
}

/**
 * How a scene is drawn. `photo` is what the demo CLIP was trained on; the others draw the same scene as a shifted
 * domain for the domain-shift samples (see [Note: demo sample tasks] in samples.ts).
 *
 * [Note: rendering styles] `sketch`: a pencil drawing of the scene: white paper instead of the pale tint, the
 * pattern in graphite grey, every object as a dark outline without colour, fine paper grain. `noisy`: the photo with
 * strong sensor noise and washed-out contrast, like a cheap camera in poor light. Neither draws anything at random
 * beyond the scene's own `noiseSeed`, so the photo style (and with it the model's training data) is unchanged.
 */
export const RENDER_STYLES = ['photo', 'sketch', 'noisy'] as const;
/** One rendering style. */
export type RenderStyle = (typeof RENDER_STYLES)[number];

interface StylePalette {
  paper: readonly number[];
  ink: readonly number[];
  fg: readonly number[];
  /** Draw every object as an outline. */
  outline: boolean;
  /** Half-range of the per-pixel noise. */
  noise: number;
  /** Share of mid-grey blended into every pixel (0 = none). */
  fade: number;
}

function palette(scene: Scene, style: RenderStyle): StylePalette {
  if (style === 'sketch')
    return { paper: [248, 247, 242], ink: [120, 120, 120], fg: [45, 45, 45], outline: true, noise: 5, fade: 0 };
  const base = { paper: scene.tint, ink: scene.tint.map((c) => c * 0.55), fg: COLOURS[scene.colour] };
  if (style === 'noisy') return { ...base, outline: scene.style === 'hollow', noise: 40, fade: 0.35 };
  return { ...base, outline: scene.style === 'hollow', noise: 6, fade: 0 };
}

/** Renders a scene as interleaved RGB bytes (size x size x 3), in a style (see [Note: rendering styles]). */
export function renderScene(scene: Scene, size: number, style: RenderStyle = 'photo'): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const { paper, ink, fg, outline, noise: amp, fade } = palette(scene, style);
  let noise = scene.noiseSeed >>> 0 || 1;
  const sub = [0.25, 0.75];
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const sy of sub) {
        for (const sx of sub) {
          const u = (px + sx) / size;
          const v = (py + sy) / size;
          let col: readonly number[] = patternInk(scene, u, v) > 0 ? ink : paper;
          for (const o of scene.objects) {
            const x = (u - o.x) / o.r;
            const y = (v - o.y) / o.r;
            if (!insideShape(scene.shape, x, y)) continue;
            if (outline && insideShape(scene.shape, x / 0.62, y / 0.62)) continue;
            col = fg;
          }
          r += col[0] ?? 0;
          g += col[1] ?? 0;
          b += col[2] ?? 0;
        }
      }
      // Sensor noise (xorshift), so flat areas are not perfectly flat; the photo style's is light.
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const n = ((((noise >>> 0) % 17) - 8) / 8) * amp;
      const i = (py * size + px) * 3;
      out[i] = clampByte((r / 4) * (1 - fade) + 128 * fade + n);
      out[i + 1] = clampByte((g / 4) * (1 - fade) + 128 * fade + n);
      out[i + 2] = clampByte((b / 4) * (1 - fade) + 128 * fade + n);
    }
  }
  return out;
}

function clampByte(x: number): number {
  return x < 0 ? 0 : x > 255 ? 255 : Math.round(x);
}

const COUNT_WORDS = ['', 'one', 'two', 'three'];
/** Plural of each shape name, as captions of several objects use it. */
export const PLURAL_OF: Record<Shape, string> = {
  circle: 'circles',
  square: 'squares',
  triangle: 'triangles',
  star: 'stars',
  cross: 'crosses',
  diamond: 'diamonds',
};
const PREFIXES = ['a photo of ', 'a picture of ', 'an image of ', 'a drawing of ', 'there is ', 'this is ', ''];
const POSITION_PHRASES: Record<string, string> = {
  left: 'on the left',
  right: 'on the right',
  top: 'at the top',
  bottom: 'at the bottom',
  center: 'in the middle',
};

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

/** One caption of a scene; see [Note: demo world captions] for which attributes it mentions. */
export function captionScene(scene: Scene, rng: Rng): string {
  const adjectives: string[] = [];
  if (rng.chance(0.25)) adjectives.push(scene.size);
  if (scene.style === 'hollow' ? rng.chance(0.3) : rng.chance(0.05)) adjectives.push(scene.style);
  if (rng.chance(0.85)) adjectives.push(scene.colour);
  const noun = scene.count === 1 ? scene.shape : PLURAL_OF[scene.shape];
  const head = adjectives.length > 0 ? adjectives.join(' ') + ' ' + noun : noun;
  let subject: string;
  if (scene.count === 1) subject = `${rng.chance(0.15) ? 'one' : article(head)} ${head}`;
  else subject = `${rng.chance(0.8) ? COUNT_WORDS[scene.count] : 'some'} ${head}`;
  const parts = [rng.pick(PREFIXES) + subject];
  if (scene.count === 1 && rng.chance(0.25)) parts.push(POSITION_PHRASES[scene.position] ?? '');
  if (rng.chance(0.5)) {
    parts.push(
      scene.background === 'plain'
        ? rng.pick(['on a plain background', 'on a blank background'])
        : `on a ${scene.background} background`,
    );
  }
  return parts.join(' ') + (rng.chance(0.5) ? '.' : '');
}

/**
 * General English words added to the BPE corpus (never to captions), so user-written prompts
 * ("a photo of a dog", "a blurry picture") tokenize into whole words, and the vocabulary has the
 * size of a real one (more than 1000 ids), as the app's graph matchers expect of a CLIP.
 */
export const EXTRA_WORDS = `
dog cat bird fish horse cow sheep pig duck chicken mouse rabbit bear lion tiger zebra giraffe elephant monkey snake frog
car truck bus train plane boat ship bicycle bike motorcycle road street bridge house building tower city village farm
tree flower grass leaf forest garden park field mountain hill river lake sea ocean beach sand rock stone sky cloud sun
moon rain snow ice fire water light dark shadow night day morning evening sunset sunrise winter summer spring autumn
man woman person people child children boy girl baby face hand eye hair head body smile family friend group crowd
table chair bed sofa door window wall floor room kitchen bathroom office school shop store market restaurant food
apple banana orange lemon cake bread pizza cup glass bottle plate bowl knife fork spoon book paper pen phone computer
screen camera clock watch bag box ball toy game picture photo image painting sketch drawing art cartoon icon logo sign
letter word number text pattern texture shape line dot stripe check grid wave spiral ring heart arrow moon hexagon
pentagon oval rectangle octagon rhombus sphere cube cone cylinder pyramid
white gray grey brown pink gold silver cyan magenta violet beige navy teal maroon olive
big little tiny huge small large tall short long wide narrow thick thin round flat sharp soft hard smooth rough
bright dark pale light deep shiny dull colorful colourful plain simple busy clean dirty old new young modern ancient
good bad nice beautiful ugly pretty cute funny happy sad angry calm quiet loud fast slow hot cold warm cool wet dry
blurry clear sharp noisy pixelated low resolution high quality cropped close far near centered rotated upside down
front back side middle corner edge center centre left right top bottom above below under over inside outside between
close-up closeup macro aerial satellite view scene landscape portrait still life abstract photograph snapshot render
rendering illustration diagram chart map graph plot scan x-ray microscope medical
filled empty hollow solid outline outlined dashed dotted striped checkered spotted tiled woven knitted wooden metal
plastic paper fabric leather glass stone brick concrete marble
the of in on at with and or to from by for is are was were be this that these those it its there here what which
one two three four five six seven eight nine ten many several few some all every each no any
`;

/** Every word the captions can use, so the BPE vocabulary is learned on the whole language. */
export function captionVocabularyText(): string {
  const words = [
    ...SHAPES,
    ...Object.values(PLURAL_OF),
    ...Object.keys(COLOURS),
    ...BACKGROUNDS,
    ...SIZES,
    ...STYLES,
    ...COUNT_WORDS,
    ...PREFIXES,
    ...Object.values(POSITION_PHRASES),
    'some background blank a an on .',
    EXTRA_WORDS,
  ];
  return words.join(' ');
}
