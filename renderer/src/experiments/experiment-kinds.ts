/**
 * @file The experiments the Experiments screen offers: the five sweeps of the CoOp paper and the two generalization
 * protocols of CoCoOp, each with the question it answers, and the progress line of their jobs (renderer).
 */
import {
  EXPERIMENT_METHOD_LABELS,
  SWEEP_KINDS,
  SWEEP_LABELS,
  type ExperimentProgress,
  type SweepKind,
} from '../../../shared/contract/experiments';

/** An experiment of the screen: a sweep kind, or a generalization protocol. */
export type ExperimentId = SweepKind | 'base-to-new' | 'domain-shift';

/** What the screen says about one experiment. */
export interface ExperimentKind {
  id: ExperimentId;
  /** The name (the contract's label for sweeps). */
  label: string;
  /** The question it answers on the user's data, as the paper asks it. */
  question: string;
}

const QUESTIONS: Record<ExperimentId, string> = {
  'context-length': 'Does a longer learned context help? CoOp with M context vectors, for each M.',
  init: 'Does the starting point matter? Random vectors against the words "a photo of a".',
  layout: 'One context for all classes or one per class, with the class name at the end, in the middle or in front?',
  backbone: 'Do bigger models gain more? The hand-written prompt and CoOp on each installed model.',
  'label-noise':
    'Does it survive wrong labels? A share of each class’s training labels flipped, CoOp against zero-shot and a linear probe.',
  'base-to-new':
    'Does it transfer to classes it never saw? Learn on half of the classes, test on them and on the other half.',
  'domain-shift':
    'Does it transfer to another kind of image? Learn on this project, test on a second folder with the same classes.',
};

/** Every experiment, sweeps first, in the paper's order. */
export const EXPERIMENT_KINDS: readonly ExperimentKind[] = [
  ...SWEEP_KINDS.map((id) => ({ id, label: SWEEP_LABELS[id], question: QUESTIONS[id] })),
  { id: 'base-to-new', label: 'Base-to-new generalization', question: QUESTIONS['base-to-new'] },
  { id: 'domain-shift', label: 'Domain shift', question: QUESTIONS['domain-shift'] },
];

/** True for the sweeps (the `sweep` operation). */
export function isSweep(id: ExperimentId): id is SweepKind {
  return (SWEEP_KINDS as readonly string[]).includes(id);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const label = (run: string) =>
  run.replace(/^(zs|linear|coop|kgcoop|cocoop)\b/, (m) => EXPERIMENT_METHOD_LABELS[m as 'zs']);

/** The progress line of an experiment job's event. */
export function progressText(e: ExperimentProgress): string {
  if (e.kind === 'phase' || e.kind === 'estimate') return e.message;
  if (e.kind === 'features') return `Embedding images: ${e.done} of ${e.total}`;
  if (e.kind === 'epoch') return `${label(e.run)}, seed ${e.seed}: epoch ${e.epoch} of ${e.epochs}`;
  return `${e.done} of ${e.total} runs done (last: ${label(e.run)}, seed ${e.seed}: ${pct(e.accuracy)})`;
}
