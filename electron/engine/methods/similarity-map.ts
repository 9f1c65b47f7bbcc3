/**
 * @file The patch-level similarity map: the cosine between every patch token and every class's text feature, and the
 * image's class probabilities, for one prompt (engine; plain TypeScript). See [Note: what the similarity map is].
 */
import { matmulT, normalizeRows, softmaxRows, stack, type Matrix } from './matrix';

/** Maps and probabilities of one prompt over the classes. */
export interface ClassMaps {
  /** Per class, the cosine of every patch (patch order). */
  maps: number[][];
  /** softmax(logit scale x cos(image, class)) over the classes. */
  probabilities: number[];
}

/** Maps of `weights` (normalised class text features [C, P]) over the raw patch tokens and image embedding. */
export function classMaps(
  patches: readonly Float32Array[],
  imageEmbeds: Float32Array,
  weights: Matrix,
  logitScale: number,
): ClassMaps {
  const cos = matmulT(normalizeRows(stack(patches)), weights); // [N, C]
  const maps = Array.from({ length: weights.rows }, (_, c) =>
    Array.from({ length: patches.length }, (_, i) => cos.data[i * weights.rows + c] ?? 0),
  );
  const image = matmulT(normalizeRows(stack([imageEmbeds])), weights);
  return { maps, probabilities: Array.from(softmaxRows(image, logitScale).data) };
}
