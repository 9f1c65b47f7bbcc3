/**
 * @file Results the fake engine hands out in controller and component tests: a learned run and a comparison, with
 * numbers small enough to check by hand (renderer tests only).
 */
import type { CompareMethod, CompareResult } from '../../../shared/contract/methods';
import type { EpochPoint, LearnResult, TestPrediction } from '../../../shared/contract/train';

/** One epoch point of a curve. */
export function epochPoint(epoch: number, trainAccuracy: number): EpochPoint {
  return {
    epoch,
    lr: epoch === 0 ? null : 0.002,
    trainLoss: 1 - trainAccuracy,
    trainAccuracy,
    valAccuracy: null,
    testAccuracy: null,
    seconds: 0.1,
  };
}

/**
 * A run on two classes, cats and dogs, of the project with id 1: 4 test images, 3 right (one dog taken for a cat
 * with confidence 0.9), zero-shot 0.5 (2 of 4), so a gain of 25 points.
 */
export function learnResult(overrides: Partial<LearnResult> = {}): LearnResult {
  const predictions: TestPrediction[] = [
    { imageId: 1, path: '/data/cats/1.png', label: 0, predicted: 0, confidence: 0.8 },
    { imageId: 2, path: '/data/cats/2.png', label: 0, predicted: 0, confidence: 0.7 },
    { imageId: 6, path: '/data/dogs/6.png', label: 1, predicted: 0, confidence: 0.9 },
    { imageId: 7, path: '/data/dogs/7.png', label: 1, predicted: 1, confidence: 0.6 },
  ];
  const report = (accuracy: number, confusion: number[][]) => ({
    accuracy,
    count: 4,
    perClass: [
      { name: 'cats', accuracy: (confusion[0]?.[0] ?? 0) / 2, count: 2 },
      { name: 'dogs', accuracy: (confusion[1]?.[1] ?? 0) / 2, count: 2 },
    ],
    confusion,
  });
  return {
    project: { id: 1, name: 'Pets', runId: 3 },
    model: { id: 'demo', dir: '/models/demo-clip' },
    data: {
      root: '/data',
      test: null,
      classes: [
        { name: 'cats', folder: 'cats', prompt: 'cats', train: 2, val: 1, test: 2 },
        { name: 'dogs', folder: 'dogs', prompt: 'dogs', train: 2, val: 1, test: 2 },
      ],
      skipped: [],
    },
    settings: {
      method: 'coop',
      kgLambda: null,
      shots: 2,
      requestedShots: 2,
      seed: 1,
      nCtx: 4,
      csc: false,
      position: 'end',
      ctxInit: null,
      epochs: 2,
      augViews: 0,
      batchSize: 32,
      path: 'optimised',
      schedule: 'paper',
      optimizer: 'sgd',
      lr: 0.002,
    },
    backend: 'wasm',
    notes: [],
    zeroShot: {
      template: 'a photo of a {}.',
      test: report(0.5, [
        [1, 1],
        [1, 1],
      ]),
      valAccuracy: null,
    },
    curve: [epochPoint(0, 0.5), epochPoint(1, 0.75), epochPoint(2, 1)],
    test: report(0.75, [
      [2, 0],
      [1, 1],
    ]),
    predictions,
    valAccuracy: null,
    nearestTokens: [{ position: 0, tokens: [{ token: 'photo</w>', id: 1, distance: 0.5 }] }],
    timings: {
      loadS: 0,
      featuresS: 0,
      imagesEmbedded: 8,
      imagesFromCache: 0,
      textEncoderS: 0,
      trainS: 1,
      steps: 2,
      msPerStep: 5,
      threads: 1,
      split: 'classes',
      totalS: 1.5,
    },
    contextPath: '/runs/3/context.safetensors',
    curvePath: '/runs/3/curve.png',
    outDir: '/runs/3',
    ...overrides,
  };
}

/** A comparison of `methods` at 1 and 2 shots over seed 1 on cats and dogs. */
export function compareResult(methods: CompareMethod[]): CompareResult {
  return {
    model: { id: 'demo', dir: '/models/demo-clip' },
    data: {
      root: '/data',
      test: null,
      classes: ['cats', 'dogs'],
      folders: ['cats', 'dogs'],
      prompts: ['cats', 'dogs'],
    },
    settings: {
      methods,
      shots: [1, 2],
      seeds: [1],
      template: 'a photo of a {}.',
      augViews: 0,
      schedule: 'fast',
      epochs: null,
      nCtx: 16,
      kgLambda: 8,
      tipfEpochs: 20,
      cocoopEpochs: 10,
    },
    backend: null,
    table: methods.flatMap((method, i) =>
      [1, 2].map((shots) => ({ method, shots, mean: 0.5 + 0.1 * i + 0.05 * shots, std: 0.01, seeds: 1 })),
    ),
    rows: [],
    skipped: [],
    splits: [1, 2].map((shots) => ({
      shots,
      requestedShots: shots,
      seed: 1,
      train: 2 * shots,
      val: 2,
      test: 4,
      pinned: false,
    })),
    splitNote: 'Each shot count and seed is its own split of the data (seed 1).',
    notes: [],
    timings: { featuresS: 1, totalS: 2, imagesEmbedded: 8, imagesFromCache: 0 },
    files: [],
    warnings: [],
  };
}
