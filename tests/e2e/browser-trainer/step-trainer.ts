/**
 * @file A step-by-step CoOp trainer behind a message API (browser page, web worker or Node; imports only
 * @tensorflow/tfjs-core and the learner, so the same code runs on every tfjs backend).
 *
 * [Note: step trainer messages] `createStepTrainer()` returns `handle(request) -> Promise<reply>`; a host forwards
 * messages from a MessagePort, a Worker or `page.evaluate` to it (see browser-trainer-entry.ts). Requests:
 * - `{type: 'init', backend, weights, tokens, prompts, learner, initCtx?, images, labels, logitScale?, sgd?}`: makes
 *   the frozen text encoder from `weights` (ClipTextWeights: plain Float32Arrays, transferable), a PromptLearner
 *   over `prompts` with a tokenizer that only looks texts up in `tokens` (the engine tokenises every text the
 *   learner encodes: each prompt, "." and the init words), replaces the context with `initCtx` when given (so every
 *   backend starts from the same numbers), and keeps the image features `images` [N, dim] row-major with their
 *   class `labels`. Replies `{type: 'ready', backend, shape}`.
 * - `{type: 'step', lr, rows?}`: one CoOp step (cross-entropy of logitScale * cos over the image rows `rows`, all by
 *   default) and one SGD update (PyTorch semantics, CoOp's momentum 0.9 and weight decay 5e-4 unless `sgd` says
 *   otherwise). Replies `{type: 'stepped', loss}` with the loss before the update.
 * - `{type: 'context'}`: replies `{type: 'context', ctx, shape}` (ctx row-major Float32Array).
 * - `{type: 'dispose'}`: frees every tensor; replies `{type: 'disposed'}`.
 * Errors reject the promise with the Error; hosts send `{type: 'error', message}`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClipTextWeights } from '../../../electron/engine/onnx/clip-text-graph';
import { PromptLearner, type PromptLearnerOptions } from '../../../electron/engine/train/prompt-learner';
import { Sgd, type SgdOptions } from '../../../electron/engine/train/sgd';
import { createTextEncoder, type TfTextEncoder } from '../../../electron/engine/train/text-encoder-core';
import { tokenTableTokenizer, type TokenTable } from '../../../electron/engine/train/token-table';

/** Requests of the step trainer. */
export type StepTrainerRequest =
  | {
      type: 'init';
      /** tfjs backend to activate first (e.g. `webgl`, `webgpu`, `wasm`, `cpu`); omitted: keep the current one. */
      backend?: string;
      weights: ClipTextWeights;
      tokens: TokenTable;
      prompts: string[];
      learner: PromptLearnerOptions;
      initCtx?: Float32Array;
      images: Float32Array;
      labels: number[];
      logitScale?: number;
      sgd?: SgdOptions;
    }
  | { type: 'step'; lr: number; rows?: number[] }
  | { type: 'context' }
  | { type: 'dispose' };

/** Replies of the step trainer. */
export type StepTrainerReply =
  | { type: 'ready'; backend: string; shape: number[] }
  | { type: 'stepped'; loss: number }
  | { type: 'context'; ctx: Float32Array; shape: number[] }
  | { type: 'disposed' };

interface Session {
  encoder: TfTextEncoder;
  learner: PromptLearner;
  sgd: Sgd;
  images: tf.Tensor2D;
  labels: number[];
  nClasses: number;
  scale: number;
}

function coopLoss(s: Session, rows: number[]): (f: tf.Tensor2D) => tf.Scalar {
  return (f) => {
    const img = tf.gather(s.images, tf.tensor1d(rows, 'int32'));
    const labels = tf.oneHot(
      tf.tensor1d(
        rows.map((r) => s.labels[r] ?? 0),
        'int32',
      ),
      s.nClasses,
    );
    const fn = tf.div(f, tf.norm(f, 2, 1, true));
    const logits = tf.mul(tf.matMul(img, fn, false, true), s.scale);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
}

/** A step trainer: feed it {@link StepTrainerRequest}s one at a time (see [Note: step trainer messages]). */
export function createStepTrainer(): { handle(req: StepTrainerRequest): Promise<StepTrainerReply> } {
  let s: Session | null = null;
  const dispose = () => {
    if (!s) return;
    s.sgd.dispose();
    s.learner.dispose();
    s.encoder.dispose();
    s.images.dispose();
    s = null;
  };
  return {
    async handle(req) {
      if (req.type === 'init') {
        dispose();
        if (req.backend && tf.getBackend() !== req.backend && !(await tf.setBackend(req.backend)))
          throw new Error(`The tfjs backend "${req.backend}" could not be initialised.`);
        await tf.ready();
        const encoder = createTextEncoder(req.weights);
        const learner = new PromptLearner(encoder, tokenTableTokenizer(req.tokens), req.prompts, req.learner);
        if (req.initCtx) learner.ctx.assign(tf.tensor(req.initCtx, learner.ctx.shape));
        const dim = req.weights.projectionDim;
        const images = tf.tensor2d(req.images, [req.images.length / dim, dim]);
        s = {
          encoder,
          learner,
          sgd: new Sgd(learner.ctx, req.sgd),
          images: tf.tidy(() => tf.div(images, tf.norm(images, 2, 1, true)) as tf.Tensor2D),
          labels: req.labels,
          nClasses: req.prompts.length,
          scale: req.logitScale ?? 100,
        };
        images.dispose();
        return { type: 'ready', backend: tf.getBackend(), shape: learner.ctx.shape };
      }
      if (req.type === 'dispose') {
        dispose();
        return { type: 'disposed' };
      }
      if (!s) throw new Error('The step trainer has not been initialised (send "init" first).');
      if (req.type === 'context') {
        return {
          type: 'context',
          ctx: (await s.learner.ctx.data()).slice() as Float32Array,
          shape: s.learner.ctx.shape,
        };
      }
      const rows = req.rows ?? s.labels.map((_, i) => i);
      const { loss, grad } = await s.learner.step(coopLoss(s, rows));
      s.sgd.step(grad, req.lr);
      grad.dispose();
      return { type: 'stepped', loss };
    },
  };
}
