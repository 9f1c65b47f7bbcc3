/**
 * @file What the engine asks of the hidden compute window, and what it answers (pure TypeScript, both sides).
 *
 * [Note: compute window protocol] The compute window speaks the engine's own wire protocol (shared/protocol.ts:
 * `call` -> `progress`* -> one `result`, `cancel`) over a MessagePort that the main process hands to both ends,
 * so the engine worker talks to the page directly and the main thread never sees the tensors. Two operations:
 * - `probe`: which GPU backends work in this Chromium (WebGPU adapter, WebGL renderer).
 * - `train`: a whole CoOp run (`trainCoop`) on the page's GPU backend. The engine sends the text encoder's weights
 *   as plain typed arrays, the class prompts already tokenised (the page has no tokenizer files), the learner's
 *   initial context (so a run starts from the same point on every backend), and the cached image features. Steps
 *   never cross the port one by one: only the progress events and the learned context come back.
 * Why a whole run and not the step-level API of tests/e2e/browser-trainer/ (init/step/context, [Note: hosting the step
 * trainer]): the page then runs the engine's own `trainCoop` (batches, schedule, SGD, evaluation per epoch), so a run
 * in the window gives the same numbers as in the engine (tested bit for bit on one backend), with no IPC per step.
 */
import type { ClipTextWeights } from '../onnx/clip-text-graph';
import type { PromptLearnerOptions } from '../train/prompt-learner';
import type { TokenTable } from '../train/token-table';
import type { TrainData, TrainOptions, TrainResult } from '../train/trainer';
import type { GpuProbe } from './backend-choice';

/** Arguments of the compute window's `train` job. */
export interface ComputeTrainArgs {
  /** tfjs backend the page activates (`webgpu` or `webgl`; tests use `cpu`). */
  backend: string;
  weights: ClipTextWeights;
  tokens: TokenTable;
  prompts: string[];
  learner: PromptLearnerOptions;
  /** The initial context, row-major, of the learner's shape. */
  initCtx: Float32Array;
  data: TrainData;
  options: Omit<TrainOptions, 'signal' | 'onProgress' | 'backend'>;
}

/** What `train` returns: the loop's result and the learned context. */
export interface ComputeTrainResult {
  result: TrainResult;
  ctx: Float32Array;
  shape: number[];
  /** The backend that actually ran (tfjs's name for it). */
  backend: string;
}

/** What `probe` returns. */
export interface ComputeProbe extends GpuProbe {
  /** tfjs backends registered in the page. */
  registered: string[];
}

/** Operation names of the compute window. */
export const COMPUTE_OPS = ['probe', 'train'] as const;

/** The message the compute window's preload posts to its page with a MessagePort attached. */
export const COMPUTE_PORT_MESSAGE = 'coop-compute-port';
