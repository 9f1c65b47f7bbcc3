/**
 * @file Zero-shot and prompt-ensembling class weights from a text encoder (engine, plain TypeScript).
 *
 * Prompt ensembling (CLIP): for each class, normalise the text feature of every template, average
 * them, and normalise again.
 */
import { type FewShotFeatures, type MethodOutcome, classesOf, score } from './evaluate';
import { matmulT, normalizeRows, stack, type Matrix } from './matrix';
import { fillTemplate } from './templates';

/** Any function that embeds texts (raw features); the CLIP runtime's `embedText` fits. */
export type EmbedTexts = (texts: string[]) => Promise<Float32Array[]>;

/** Normalised class weights ([C, D]) averaged over `templates`. */
export async function classWeights(
  embed: EmbedTexts,
  classTexts: readonly string[],
  templates: readonly string[],
): Promise<Matrix> {
  if (templates.length === 0) throw new Error('At least one template is needed.');
  const rows: Float32Array[] = [];
  for (const classText of classTexts) {
    const feats = normalizeRows(stack(await embed(templates.map((t) => fillTemplate(t, classText)))));
    const mean = new Float32Array(feats.cols);
    for (let i = 0; i < feats.rows; i++)
      for (let j = 0; j < feats.cols; j++) mean[j] = mean[j]! + feats.data[i * feats.cols + j]!;
    rows.push(mean);
  }
  return normalizeRows(stack(rows));
}

/** Scores classifier weights (zero-shot or ensembled) on the validation and test splits. */
export function evaluateWeights(method: string, data: FewShotFeatures, weights: Matrix): MethodOutcome {
  const run = (split: FewShotFeatures['val']) => score(matmulT(split.features, weights), split.labels, classesOf(data));
  return { method, val: run(data.val), test: run(data.test), chosen: {} };
}
