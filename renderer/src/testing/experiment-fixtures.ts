/**
 * @file Results of the experiment bench the fake engine hands out in controller and component tests: a context-length
 * sweep, a base-to-new run and a similarity map, on the cats and dogs of the fake project, with numbers small enough
 * to check by hand (renderer tests only).
 */
import type {
  BaseToNewResult,
  ExperimentCommon,
  ExperimentTable,
  SweepCell,
  SweepResult,
} from '../../../shared/contract/experiments';
import { ZERO_SHOT_SETTING } from '../../../shared/contract/experiment-plan';
import type { SimilarityMapResult } from '../../../shared/contract/similarity-map';

/** A 1x1 PNG (base64), the overlay of every fake map. */
export const TINY_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function common(table: ExperimentTable, seeds: number[]): ExperimentCommon {
  return {
    models: [{ id: 'demo', dir: '/models/demo-clip' }],
    data: { root: '/data', classes: ['cats', 'dogs'], prompts: ['cats', 'dogs'] },
    split: {
      rule: '2 training images per class drawn with the seed, then min(2, 4) validation images per class; the rest is the test set.',
      shots: 2,
      perSeed: seeds.map((seed) => ({ seed, train: 4, val: 4, test: 2 })),
      testFolder: null,
    },
    seeds,
    table,
    environment: {
      appVersion: '0.1.0',
      node: 'v20',
      platform: 'linux',
      arch: 'x64',
      backend: 'wasm',
      provider: 'cpu',
      createdAt: '2025-01-01T00:00:00.000Z',
    },
    command: 'coop-studio sweep --kind context-length --project 1 --seeds 1,2 --shots 2',
    warnings: [],
    notes: ['M=1: CoOp with M = 1, unified context, class token end, random init.'],
    timings: { featuresS: 1, totalS: 3, runs: 6 },
    files: [],
  };
}

/** A context-length sweep over M = 1, 2 and the hand-written prompt, seeds 1 and 2. */
export function sweepResult(): SweepResult {
  const cell = (setting: string, method: 'coop' | 'zs', nCtx: number): SweepCell => ({
    key: `${method} ${setting}`,
    setting,
    method,
    model: null,
    learn: { nCtx, csc: false, position: 'end', ctxInit: null },
    noiseRate: 0,
  });
  const cells = [cell('M=1', 'coop', 1), cell('M=2', 'coop', 2), cell(ZERO_SHOT_SETTING, 'zs', 16)];
  const acc: Record<string, [number, number]> = { 'M=1': [0.5, 0.7], 'M=2': [1, 1], [ZERO_SHOT_SETTING]: [0.5, 0.5] };
  const table: ExperimentTable = {
    title: 'Context length M: data, 2 shots',
    groupAxis: 'setting',
    metric: 'test accuracy',
    groups: ['M=1', 'M=2', ZERO_SHOT_SETTING],
    series: ['CoOp', 'Zero-shot'],
    cells: [
      { group: 'M=1', series: 'CoOp', mean: 0.6, std: 0.1414, values: [0.5, 0.7] },
      { group: 'M=2', series: 'CoOp', mean: 1, std: 0, values: [1, 1] },
      { group: ZERO_SHOT_SETTING, series: 'Zero-shot', mean: 0.5, std: 0, values: [0.5, 0.5] },
    ],
  };
  return {
    ...common(table, [1, 2]),
    kind: 'context-length',
    settings: {
      shots: 2,
      epochs: 2,
      nCtx: 16,
      csc: false,
      position: 'end',
      ctxInit: null,
      augViews: 0,
      template: 'a photo of a {}.',
      contextLengths: [1, 2],
      initWords: 'a photo of a',
      noiseRates: [0, 0.125, 0.25, 0.5],
    },
    cells,
    rows: cells.flatMap((c) =>
      [1, 2].map((seed, i) => ({
        cell: c.key,
        seed,
        model: 'demo',
        valAccuracy: null,
        testAccuracy: acc[c.setting]?.[i] ?? 0,
        perClass: [1, 0],
        finalTrainLoss: c.method === 'coop' ? 0.25 : null,
        flippedLabels: 0,
        chosen: {},
        seconds: 0.5,
      })),
    ),
  };
}

/** Base-to-new with zero-shot and CoOp on seed 1: base cats, new dogs. */
export function baseToNewResult(): BaseToNewResult {
  const ms = (v: number) => ({ mean: v, std: 0, values: [v] });
  const table: ExperimentTable = {
    title: 'Base-to-new generalization: data, 2 shots',
    groupAxis: 'method',
    metric: 'test accuracy',
    groups: ['Zero-shot', 'CoOp'],
    series: ['base', 'new', 'H'],
    cells: [
      { group: 'Zero-shot', series: 'base', ...ms(0.5) },
      { group: 'Zero-shot', series: 'new', ...ms(0.5) },
      { group: 'Zero-shot', series: 'H', ...ms(0.5) },
      { group: 'CoOp', series: 'base', ...ms(1) },
      { group: 'CoOp', series: 'new', ...ms(0.25) },
      { group: 'CoOp', series: 'H', ...ms(0.4) },
    ],
  };
  return {
    ...common(table, [1]),
    command: 'coop-studio base-to-new --project 1 --seeds 1 --shots 2 --methods zs,coop',
    notes: ['Class split (classes in label order, base = the first half, rounded up): base cats; new dogs.'],
    classSplit: { rule: 'first-half', base: ['cats'], new: ['dogs'] },
    settings: {
      shots: 2,
      epochs: 2,
      nCtx: 16,
      kgLambda: 8,
      cocoopEpochs: 10,
      augViews: 0,
      template: 'a photo of a {}.',
    },
    rows: [
      { method: 'zs', seed: 1, base: 0.5, new: 0.5, harmonic: 0.5, seconds: 0 },
      { method: 'coop', seed: 1, base: 1, new: 0.25, harmonic: 0.4, seconds: 1 },
    ],
    summary: [
      { method: 'zs', base: ms(0.5), new: ms(0.5), harmonic: 0.5 },
      { method: 'coop', base: ms(1), new: ms(0.25), harmonic: 0.4 },
    ],
  };
}

/**
 * The maps of one image on cats and dogs (a 2 x 2 patch grid): the learned prompt says dogs (0.8), the hand-written
 * one cats (0.6); overlays for the classes asked (by default the learned prompt's ranking: dogs, then cats).
 */
export function similarityMapResult(image: string, classIndices?: number[]): SimilarityMapResult {
  const classes = classIndices ?? [1, 0];
  const probs = { 'hand-written': [0.6, 0.4], learned: [0.2, 0.8] } as const;
  return {
    model: { id: 'demo', dir: '/models/demo-clip' },
    image: { path: image, width: 224, height: 224 },
    grid: { rows: 2, cols: 2 },
    classNames: ['cats', 'dogs'],
    prompts: [
      {
        prompt: 'hand-written',
        texts: ['a photo of a cats.', 'a photo of a dogs.'],
        probabilities: [...probs['hand-written']],
        maps: [
          [0.1, 0.2, 0.3, 0.4],
          [0.2, 0.1, 0.0, 0.3],
        ],
      },
      {
        prompt: 'learned',
        texts: ['X X X X cats.', 'X X X X dogs.'],
        probabilities: [...probs.learned],
        maps: [
          [0.0, 0.1, 0.2, 0.1],
          [0.3, 0.35, 0.1, 0.2],
        ],
      },
    ],
    overlays: classes.flatMap((c) =>
      (['hand-written', 'learned'] as const).map((prompt) => ({
        prompt,
        classIndex: c,
        className: ['cats', 'dogs'][c] ?? String(c),
        min: 0,
        max: c === 1 ? 0.35 : 0.4,
        png: TINY_PNG,
      })),
    ),
    check: { clsMaxAbsDiff: 1e-6, tolerance: 1e-4 },
    note: 'Cosine between each image patch token and the class text feature. Not a gradient saliency.',
    files: [],
  };
}
