/**
 * @file State of the Compare methods card: the chosen methods, shot counts and seeds, the running `compare` job with
 * its progress, and the last table (renderer).
 *
 * [Note: compare state outlives the card] The job runs for minutes with the trained methods, so its state lives in
 * this controller, which the studio keeps for the whole session: leaving the Results screen and coming back shows the
 * same progress or table, and the job keeps running (Cancel stops it).
 */
import type { EngineClient } from '../../../shared/client';
import {
  CHEAP_METHODS,
  COMPARE_METHODS,
  METHOD_LABELS,
  type CompareCell,
  type CompareMethod,
  type CompareProgress,
  type CompareResult,
} from '../../../shared/contract/methods';
import { valueOr } from '../app/errors.svelte';
import type { LearnController } from '../learn/learn.svelte';
import type { ProjectsController } from '../projects/projects.svelte';

const pct = (x: number) => `${(x * 100).toFixed(1)}`;

/** A list of whole numbers >= `min` from "1, 2, 4" (duplicates dropped); null when any entry is not one. */
export function parseInts(text: string, min: number): number[] | null {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  const nums = parts.map(Number);
  if (nums.length === 0 || nums.some((n) => !Number.isInteger(n) || n < min)) return null;
  return nums.filter((n, i) => nums.indexOf(n) === i);
}

/** The progress line of a compare job's event. */
export function progressText(e: CompareProgress): string {
  if (e.kind === 'phase' || e.kind === 'estimate') return e.message;
  if (e.kind === 'features') return `Embedding images: ${e.done} of ${e.total}`;
  if (e.kind === 'row')
    return `${e.done} of ${e.total} runs done (last: ${METHOD_LABELS[e.row.method]}, ${e.row.shots} shots, seed ${e.row.seed}: ${pct(e.row.testAccuracy)}%)`;
  return `${METHOD_LABELS[e.method]}, ${e.shots} shots, seed ${e.seed}: epoch ${e.epoch} of ${e.epochs}`;
}

/** Few-shot methods side by side on the open project (see [Note: compare state outlives the card]). */
export class CompareController {
  /** Which methods are chosen: the cheap ones at first. */
  methods = $state(
    Object.fromEntries(COMPARE_METHODS.map((m) => [m, CHEAP_METHODS.includes(m)])) as Record<CompareMethod, boolean>,
  );
  shots = $state('1, 2, 4, 8, 16');
  seeds = $state('1, 2, 3');
  running = $state(false);
  progress = $state('');
  /** What is wrong with each field (`methods`, `shots`, `seeds`), in plain words next to it. */
  errors = $state<Partial<Record<'methods' | 'shots' | 'seeds', string>>>({});
  private last = $state<{ projectId: number; result: CompareResult } | null>(null);
  private abort: AbortController | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly projects: ProjectsController,
    private readonly learn: LearnController,
  ) {}

  /** The last comparison, when it was of the open project. */
  get result(): CompareResult | null {
    return this.last && this.last.projectId === this.projects.current?.id ? this.last.result : null;
  }

  /** The table cell of method `m` at `shots`. */
  cellOf(m: CompareMethod, shots: number): CompareCell | undefined {
    return this.result?.table.find((c) => c.method === m && c.shots === shots);
  }

  /** Why Compare cannot run on the open project (no project, no images), or null when it can. */
  get unavailable(): string | null {
    const p = this.projects.current;
    if (!p) return 'Open a project with images first (Projects screen): methods are compared on its images.';
    if (p.images === 0 || p.classList.length < 2) {
      return `${p.name} needs images in at least two classes first: add a dataset on the Dataset screen.`;
    }
    return null;
  }

  /** Runs the chosen methods on the open project with the Learn screen's model; a bad field is said next to it. */
  async start(): Promise<void> {
    const p = this.projects.current;
    if (!p || this.unavailable) return;
    const methods = COMPARE_METHODS.filter((m) => this.methods[m]);
    const shots = parseInts(this.shots, 1);
    const seeds = parseInts(this.seeds, 0);
    this.errors = {
      ...(methods.length === 0 ? { methods: 'Choose at least one method to compare.' } : {}),
      ...(!shots
        ? { shots: 'Write the shot counts as whole numbers of 1 or more, separated by commas (for example 1, 2, 4).' }
        : {}),
      ...(!seeds
        ? { seeds: 'Write the seeds as whole numbers of 0 or more, separated by commas (for example 1, 2, 3).' }
        : {}),
    };
    if (methods.length === 0 || !shots || !seeds) return;
    const model = this.learn.options.model;
    this.running = true;
    this.progress = 'Starting';
    this.abort = new AbortController();
    try {
      const r = valueOr(
        await this.engine.call(
          'compare',
          { project: p.id, methods, shots, seeds, ...(model ? { model } : {}) },
          { onProgress: (e) => (this.progress = progressText(e)), signal: this.abort.signal },
        ),
      );
      if (r) this.last = { projectId: p.id, result: r };
    } finally {
      this.running = false;
      this.progress = '';
      this.abort = null;
    }
  }

  cancel(): void {
    this.abort?.abort();
  }
}
