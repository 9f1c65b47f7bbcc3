/**
 * @file Browser entry of the step trainer (bundled by esbuild for the browser: tfjs-core, its gradients, the WebGL
 * and CPU backends, the prompt learner; no Node modules).
 *
 * [Note: hosting the step trainer] The bundle is one classic script. It defines `globalThis.coopStepTrainer` with
 * `handle(request)` (see [Note: step trainer messages]) and `attach(port)`, which serves a MessagePort, a Worker's
 * `self` or anything with `postMessage` + `onmessage`: each incoming message is a request, answered in order with
 * the reply or `{type: 'error', message}`. Float32Arrays in requests and replies can be transferred. A hidden
 * compute window hands a port from its preload to `attach`; tests call `handle` through `page.evaluate`.
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered by a side-effect module of tfjs-core (the core package alone has none).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import { createStepTrainer, type StepTrainerRequest } from './step-trainer';

/** Something that exchanges messages: a MessagePort, a Worker or a worker's global scope. */
interface PortLike {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
}

const trainer = createStepTrainer();
let queue: Promise<unknown> = Promise.resolve();

/** Serves `port`: requests are handled strictly in order. */
function attach(port: PortLike): void {
  port.onmessage = (e: MessageEvent) => {
    queue = queue.then(async () => {
      try {
        port.postMessage(await trainer.handle(e.data as StepTrainerRequest));
      } catch (err) {
        port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      }
    });
  };
}

(globalThis as unknown as Record<string, unknown>)['coopStepTrainer'] = {
  handle: trainer.handle,
  attach,
  tfjsVersion: tf.version_core,
};
