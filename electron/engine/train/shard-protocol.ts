/**
 * @file Messages between the sharded learner and its shard threads (types only, plus the shared-flag states; engine).
 */
import type { TokenTable } from './token-table';
import type { ClipTextWeights } from '../onnx/clip-text-graph';
import type { PromptLearnerOptions } from './prompt-learner';

/** Flag value: the shard waits for dL/dfeatures. */
export const DF_WAITING = 0;
/** Flag value: dL/dfeatures of the shard's classes is in the shared buffer. */
export const DF_READY = 1;
/** Flag value: the main thread abandoned the step (its loss threw); the shard throws out of its tape. */
export const DF_ABORT = 2;

/** Requests to a shard thread. */
export type ShardRequest =
  | {
      type: 'init';
      weights: ClipTextWeights;
      tokens: TokenTable;
      /** The prompts of the shard's classes only. */
      prompts: string[];
      options: PromptLearnerOptions;
      /** Whether the wasm kernel path runs, as in the thread that started the shards (see `setWasmKernels`). */
      kernels: boolean;
      /** Int32Array[1] over it: DF_WAITING / DF_READY / DF_ABORT. */
      signal: SharedArrayBuffer;
      /** Float32Array over it: dL/dfeatures of the shard's classes, row-major [classes, projection]. */
      dF: SharedArrayBuffer;
      /** Head-parallel rank (see [Note: head-parallel steps]); absent when the threads split the classes. */
      heads?: {
        rank: number;
        ranks: number;
        /** Int32Array[2]: the all-reduce barrier. */
        control: SharedArrayBuffer;
        /** Float32Array: one slot of `slotSize` values per rank. */
        slots: SharedArrayBuffer;
        slotSize: number;
      };
    }
  /** One step at this context (the shard's slice when class-specific): replies `features`, then `grad`. */
  | { type: 'step'; ctx: Float32Array }
  /** The class features at this context, no gradient: replies `features`. */
  | { type: 'features'; ctx: Float32Array };

/** Replies of a shard thread. */
export type ShardReply =
  | { type: 'ready'; tensors: number }
  | { type: 'features'; data: Float32Array }
  | { type: 'grad'; data: Float32Array }
  | { type: 'error'; message: string };
