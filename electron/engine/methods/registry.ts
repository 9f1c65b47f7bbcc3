/**
 * @file The engine side of the methods registry: how each few-shot method of `compare` runs on one split, keyed by
 * the contract's method ids (engine worker, plain Node; see [Note: methods registry] in shared/contract/methods.ts).
 *
 * The map's type has one key per `CompareMethod`, so a method declared in the contract without an engine entry (or
 * an entry without a declaration) fails `tsc`; methods/registry.test.ts checks the same at run time.
 */
import type { z } from 'zod';
import type { CompareMethod, compareArgs } from '../../../shared/contract/methods';
import { defaultEpochs, resolveSchedule } from '../../../shared/contract/train';
import type { ClipModel } from '../clip/clip-model';
import { Rng } from '../train/splits';
import type { TrainImage } from '../train/trainer';
import { clipAdapter } from './clip-adapter';
import { runCocoopMethod, runPromptMethod } from './coop-method';
import { evaluateWeights } from './ensemble';
import type { FewShotFeatures, MethodOutcome } from './evaluate';
import { linearProbe } from './linear-probe';
import type { Matrix } from './matrix';
import { CLIP_7_TEMPLATES, CLIP_80_TEMPLATES } from './templates';
import { tipAdapter, tipAdapterF } from './tip-adapter';

/** The settings of one `compare` that methods read (hyper-parameters of the trained methods). */
export type CompareSettings = Pick<
  z.output<typeof compareArgs>,
  'schedule' | 'epochs' | 'nCtx' | 'kgLambda' | 'tipfEpochs' | 'cocoopEpochs'
>;

/** What every run of one `compare` shares: made once, before the first split. */
export interface CompareSetup {
  model: ClipModel;
  /** The tfjs backend in use (`cpu` when no method needs tfjs). */
  backend: string;
  /** The class prompt texts, in class order. */
  prompts: string[];
  /** Raw text features of the hand-written prompt per class. */
  zeroShotText: Float32Array[];
  settings: CompareSettings;
  signal?: AbortSignal;
  /** Normalised class weights averaged over `templates`: encoded once per compare, then reused. */
  templateWeights(templates: readonly string[]): Promise<Matrix>;
}

/** One method on one (shots, seed) split. */
export interface MethodRun {
  setup: CompareSetup;
  shots: number;
  seed: number;
  /** Training images with their cached views (normalised features), for the methods that train on views. */
  trainImages: TrainImage[];
  /** After each epoch of a trained method. */
  onEpoch(epoch: number, epochs: number): void;
  /** After each optimiser step of a method with {@link MethodEntry.steps}: steps done of `total`. */
  onStep(done: number, total: number): void;
}

/** The sizes of one split, for time estimates. */
export interface SplitSize {
  classes: number;
  shots: number;
  train: number;
  val: number;
  test: number;
}

/** The engine side of one method. */
export interface MethodEntry {
  /** Trains (when the method trains) and scores the method on one split; hyper-parameters on validation only. */
  run(data: FewShotFeatures, run: MethodRun): Promise<MethodOutcome>;
  /** Templates whose class weights the method reads: encoded with the class prompts, before the first split. */
  templates?: readonly string[];
  /**
   * What one run costs in optimiser steps (an evaluation pass counted as a third of a step), for methods slow enough
   * to need a time estimate (see [Note: compare estimates] in jobs/compare-estimate.ts).
   */
  steps?(split: SplitSize, settings: CompareSettings): number;
}

/** The CoOp/KgCoOp schedule of one split, as `learn` resolves it for the same classes, shots and images. */
const coopSchedule = (s: CompareSettings, classes: number, shots: number, trainImages: number) =>
  resolveSchedule({ schedule: s.schedule, classes, shots, trainImages, epochs: s.epochs });

/** The prompt methods trained by the CoOp loop (see [Note: compare CoOp]). */
function promptMethod(method: 'coop' | 'kgcoop'): MethodEntry {
  return {
    run: (data, r) => {
      const schedule = coopSchedule(r.setup.settings, r.setup.prompts.length, r.shots, r.trainImages.length);
      return runPromptMethod(data, {
        method,
        model: r.setup.model,
        backend: r.setup.backend,
        prompts: r.setup.prompts,
        zeroShotText: r.setup.zeroShotText,
        trainImages: r.trainImages,
        schedule,
        epochs: schedule.epochs,
        nCtx: r.setup.settings.nCtx,
        kgLambda: r.setup.settings.kgLambda,
        seed: r.seed,
        ...(r.setup.signal ? { signal: r.setup.signal } : {}),
        onEpoch: r.onEpoch,
        onStep: r.onStep,
      });
    },
    // One forward pass of the class prompts per epoch scores validation and test: a third of a step.
    steps: (s, settings) => {
      const schedule = coopSchedule(settings, s.classes, s.shots, s.train);
      return schedule.steps + schedule.epochs / 3;
    },
  };
}

/** Every method's engine side, by id (see [Note: methods registry]). */
export const METHOD_RUNNERS: { readonly [M in CompareMethod]: MethodEntry } = {
  zs: { run: async (data) => evaluateWeights('zs', data, data.zeroShotWeights) },
  ensemble: {
    templates: CLIP_80_TEMPLATES,
    run: async (data, r) => evaluateWeights('ensemble', data, await r.setup.templateWeights(CLIP_80_TEMPLATES)),
  },
  ensemble7: {
    templates: CLIP_7_TEMPLATES,
    run: async (data, r) => evaluateWeights('ensemble7', data, await r.setup.templateWeights(CLIP_7_TEMPLATES)),
  },
  linear: { run: async (data) => linearProbe(data) },
  tip: { run: async (data) => tipAdapter(data) },
  tipf: {
    run: async (data, r) => {
      const rng = new Rng(r.seed).fork('tipf');
      return tipAdapterF(data, {
        epochs: r.setup.settings.tipfEpochs,
        random: () => rng.next(),
        ...(r.setup.signal ? { signal: r.setup.signal } : {}),
        onEpoch: r.onEpoch,
      });
    },
  },
  'clip-adapter': {
    run: async (data, r) =>
      clipAdapter(data, {
        epochs: defaultEpochs(r.shots),
        seed: r.seed,
        ...(r.setup.signal ? { signal: r.setup.signal } : {}),
        onEpoch: r.onEpoch,
      }),
  },
  coop: promptMethod('coop'),
  kgcoop: promptMethod('kgcoop'),
  cocoop: {
    run: (data, r) =>
      runCocoopMethod(data, {
        model: r.setup.model,
        backend: r.setup.backend,
        prompts: r.setup.prompts,
        zeroShotText: r.setup.zeroShotText,
        trainImages: r.trainImages,
        epochs: r.setup.settings.cocoopEpochs,
        seed: r.seed,
        ...(r.setup.signal ? { signal: r.setup.signal } : {}),
        onStep: r.onStep,
      }),
    // Batch 1; scoring is one forward pass per validation and test image, about a third of a training step.
    steps: (s, settings) => s.train * settings.cocoopEpochs + (s.val + s.test) / 3,
  },
};
