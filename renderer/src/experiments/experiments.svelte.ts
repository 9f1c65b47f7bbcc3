/**
 * @file State of the Experiments screen: the chosen experiment and its fields, the plan (how many runs), the running
 * `sweep` / `baseToNew` / `domainShift` job with its progress bar and Cancel, and the last result of each experiment
 * per project (renderer).
 *
 * [Note: experiment state outlives the screen] As with Compare, a job runs for minutes, so its state lives in this
 * controller, which the studio keeps for the session: leaving the screen and coming back shows the same progress or
 * table, and the job keeps running until it ends or Cancel stops it.
 */
import type { z } from 'zod';
import type { EngineClient } from '../../../shared/client';
import {
  baseToNewArgs,
  DEFAULT_CONTEXT_LENGTHS,
  DEFAULT_EXPERIMENT_SEEDS,
  DEFAULT_EXPERIMENT_SHOTS,
  DEFAULT_INIT_WORDS,
  DEFAULT_NOISE_RATES,
  DEFAULT_SHIFT_METHODS,
  domainShiftArgs,
  GENERALIZATION_METHODS,
  sweepArgs,
  type ExperimentProgress,
  type GeneralizationMethod,
} from '../../../shared/contract/experiments';
import { planSweep, plannedRuns } from '../../../shared/contract/experiment-plan';
import { defaultEpochs } from '../../../shared/contract/train';
import type { ExperimentResult } from '../../../shared/experiment-report';
import { showError, valueOr } from '../app/errors.svelte';
import type { Platform } from '../app/platform';
import { datasetRoot, uploadFiles, type PickedFile } from '../dataset/upload';
import type { LearnController } from '../learn/learn.svelte';
import type { ProjectsController } from '../projects/projects.svelte';
import { isSweep, progressText, type ExperimentId } from './experiment-kinds';
import { browserSaver, type FileSaver } from '../ui/save-file';
import { reportFile, type ReportFormat } from './report-files';

/** A field of the form that can be wrong (its message is shown next to it). */
export type ExperimentField = 'shots' | 'seeds' | 'epochs' | 'lengths' | 'initWords' | 'noise' | 'methods' | 'targets';

/** The arguments of one experiment job, ready for the engine. */
export type ExperimentCall =
  | { op: 'sweep'; args: z.input<typeof sweepArgs> }
  | { op: 'baseToNew'; args: z.input<typeof baseToNewArgs> }
  | { op: 'domainShift'; args: z.input<typeof domainShiftArgs> };

/** How much an experiment will run. */
export interface ExperimentPlan {
  /** Every run (cells x seeds; the hand-written prompt and the probe are quick). */
  runs: number;
  /** Runs that train a prompt. */
  trained: number;
  /** Epochs of each trained CoOp (and KgCoOp) run. */
  epochs: number;
  /** CoCoOp's epochs when it is among the methods (its own, shorter schedule). */
  cocoopEpochs: number | null;
}

/** The progress bar: images embedded, then runs done out of all with the running one's epochs as a fraction. */
export interface ExperimentBar {
  value: number;
  max: number;
  /** What the bar counts, in words (its accessible value). */
  text: string;
}

/** A list of numbers from "1, 2, 4" (duplicates dropped); null when any entry is not one or breaks `ok`. */
export function parseNumbers(text: string, ok: (n: number) => boolean): number[] | null {
  const nums = text
    .split(/[\s,;]+/)
    .filter((p) => p !== '')
    .map(Number);
  if (nums.length === 0 || nums.some((n) => !Number.isFinite(n) || !ok(n))) return null;
  return nums.filter((n, i) => nums.indexOf(n) === i);
}

const whole =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (n: number) =>
    Number.isInteger(n) && n >= min && n <= max;
const percentText = (rates: readonly number[]) => rates.map((r) => String(Number((r * 100).toFixed(2)))).join(', ');

/** The Experiments screen (see [Note: experiment state outlives the screen]). */
export class ExperimentsController {
  kind = $state<ExperimentId>('context-length');
  shots = $state(String(DEFAULT_EXPERIMENT_SHOTS));
  seeds = $state(DEFAULT_EXPERIMENT_SEEDS.join(', '));
  /** Empty: CoOp's count for the shots. */
  epochs = $state('');
  lengths = $state(DEFAULT_CONTEXT_LENGTHS.join(', '));
  initWords = $state(DEFAULT_INIT_WORDS);
  /** Flip rates in percent. */
  noise = $state(percentText(DEFAULT_NOISE_RATES));
  /** Backbone sweep: the chosen model folders (none: every installed model). */
  models = $state<Record<string, boolean>>({});
  /** Base-to-new's methods. */
  b2nMethods = $state(
    Object.fromEntries(GENERALIZATION_METHODS.map((m) => [m, true])) as Record<GeneralizationMethod, boolean>,
  );
  /** Domain shift's methods. */
  shiftMethods = $state(
    Object.fromEntries(GENERALIZATION_METHODS.map((m) => [m, DEFAULT_SHIFT_METHODS.includes(m)])) as Record<
      GeneralizationMethod,
      boolean
    >,
  );
  /** Domain shift's target folders, one per line. */
  targets = $state('');
  /** Messages of the fields that are wrong, shown next to them. */
  errors = $state<Partial<Record<ExperimentField, string>>>({});
  running = $state(false);
  /** Which experiment is running (the screen may show another one's form meanwhile). */
  runningKind = $state<ExperimentId | null>(null);
  progress = $state('');
  bar = $state<ExperimentBar | null>(null);
  /** Where downloads go (tests record them). */
  saver: FileSaver = browserSaver;
  private last = $state<Record<string, ExperimentResult>>({});
  private abort: AbortController | null = null;
  private total = 0;
  private runsDone = 0;

  /** Upload of a shifted folder in progress (web mode). */
  uploading = $state<{ done: number; total: number } | null>(null);

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
    private readonly projects: ProjectsController,
    private readonly learn: LearnController,
  ) {}

  /** The last result of the chosen experiment on the open project. */
  get result(): ExperimentResult | null {
    const p = this.projects.current;
    return p ? (this.last[`${p.id}:${this.kind}`] ?? null) : null;
  }

  /** CoOp's epochs when the Epochs field is empty (the rule `learn` uses). */
  get defaultEpochs(): number {
    const k = Number(this.shots);
    return defaultEpochs(Number.isInteger(k) && k > 0 ? k : DEFAULT_EXPERIMENT_SHOTS);
  }

  /** The model folders of the backbone sweep: the chosen ones, else every usable installed model. */
  get backboneModels(): string[] {
    const chosen = this.learn.models.filter((m) => this.models[m.dir]).map((m) => m.dir);
    return chosen.length > 0 ? chosen : this.learn.models.map((m) => m.dir);
  }

  /** The job the form describes, or the fields that are wrong. */
  build(projectId: number): { call: ExperimentCall } | { errors: Partial<Record<ExperimentField, string>> } {
    const errors: Partial<Record<ExperimentField, string>> = {};
    const shots = parseNumbers(this.shots, whole(1, 10_000));
    const seeds = parseNumbers(this.seeds, whole(0, 2 ** 31 - 1));
    const epochs = this.epochs.trim() === '' ? [] : parseNumbers(this.epochs, whole(0, 10_000));
    if (!shots || shots.length !== 1) errors.shots = 'Write one whole number of images per class, for example 16.';
    if (!seeds) errors.seeds = 'Write the seeds as whole numbers separated by commas, for example 1, 2, 3.';
    else if (seeds.length > 20) errors.seeds = 'Use at most 20 seeds.';
    if (!epochs || epochs.length > 1) errors.epochs = 'Leave Epochs empty for CoOp’s count, or write one whole number.';
    const model = this.learn.options.model || undefined;
    const common = {
      project: projectId,
      shots: shots?.[0] ?? DEFAULT_EXPERIMENT_SHOTS,
      seeds: seeds ?? [],
      ...(epochs?.[0] !== undefined ? { epochs: epochs[0] } : {}),
    };
    let call: ExperimentCall | null = null;
    if (isSweep(this.kind)) {
      const args: z.input<typeof sweepArgs> = { kind: this.kind, ...common };
      if (this.kind === 'backbone') {
        const chosen = this.learn.models.filter((m) => this.models[m.dir]).map((m) => m.dir);
        if (chosen.length > 0) args.models = chosen;
      } else if (model) args.model = model;
      if (this.kind === 'context-length') {
        const lengths = parseNumbers(this.lengths, whole(1, 64));
        if (!lengths)
          errors.lengths = 'Write the context lengths as whole numbers from 1 to 64, for example 1, 2, 4, 8, 16.';
        else args.contextLengths = lengths;
      }
      if (this.kind === 'init') {
        if (!this.initWords.trim())
          errors.initWords = 'Write the words the context starts from, for example a photo of a.';
        else args.initWords = this.initWords.trim();
      }
      if (this.kind === 'label-noise') {
        const rates = parseNumbers(this.noise, (n) => n >= 0 && n < 100);
        if (!rates) errors.noise = 'Write the shares of flipped labels in percent, from 0 up to (not including) 100.';
        else args.noiseRates = rates.map((r) => r / 100);
      }
      call = { op: 'sweep', args };
    } else {
      const chosen = this.kind === 'base-to-new' ? this.b2nMethods : this.shiftMethods;
      const methods = GENERALIZATION_METHODS.filter((m) => chosen[m]);
      if (methods.length === 0) errors.methods = 'Choose at least one method.';
      if (this.kind === 'base-to-new')
        call = { op: 'baseToNew', args: { ...common, methods, ...(model ? { model } : {}) } };
      else {
        const targets = this.targetList;
        if (targets.length === 0) errors.targets = 'Give the folder of the shifted images: one sub-folder per class.';
        else if (targets.length > 16) errors.targets = 'Use at most 16 folders.';
        call = { op: 'domainShift', args: { ...common, methods, targets, ...(model ? { model } : {}) } };
      }
    }
    return Object.keys(errors).length > 0 || !call ? { errors } : { call };
  }

  /** Domain shift's folders as typed, one per line. */
  get targetList(): string[] {
    return this.targets
      .split('\n')
      .map((t) => t.trim())
      .filter((t) => t !== '');
  }

  /** Adds a folder to domain shift's targets (chosen or uploaded). */
  addTarget(folder: string): void {
    if (!this.targetList.includes(folder)) this.targets = [...this.targetList, folder].join('\n');
  }

  /** The native folder dialog for domain shift's targets (desktop app). */
  async chooseTargets(): Promise<void> {
    const r = await this.platform.desktop<{ paths: string[] }>('openFolderDialog', {
      title: 'Folders of shifted images (one sub-folder per class)',
      multiple: true,
    });
    for (const path of (r && valueOr(r)?.paths) ?? []) this.addTarget(path);
  }

  /** Uploads a chosen folder of shifted images into the data folder and adds it to the targets (web mode). */
  async uploadTarget(files: PickedFile[]): Promise<void> {
    if (files.length === 0) {
      this.errors = { ...this.errors, targets: 'That folder has no images.' };
      return;
    }
    this.uploading = { done: 0, total: files.length };
    try {
      const up = valueOr(await uploadFiles(files, (p) => (this.uploading = { done: p.done, total: p.total })));
      if (up) {
        this.addTarget(datasetRoot(up.folder, files));
        const { targets: _done, ...rest } = this.errors;
        this.errors = rest;
      }
    } finally {
      this.uploading = null;
    }
  }

  /** How many runs the form's experiment is, or null while a field is wrong. */
  get plan(): ExperimentPlan | null {
    const built = this.build(this.projects.current?.id ?? 1);
    if (!('call' in built)) return null;
    const { call } = built;
    const epochs = call.args.epochs ?? this.defaultEpochs;
    if (call.op === 'sweep') {
      const parsed = sweepArgs.safeParse(call.args);
      if (!parsed.success) return null;
      // The init sweep's vector count and the models' names do not change the number of cells.
      const cells = planSweep(parsed.data, { models: this.backboneModels, initTokens: 4 });
      const seeds = parsed.data.seeds.length;
      return { runs: cells.length * seeds, trained: plannedRuns(cells, seeds), epochs, cocoopEpochs: null };
    }
    const parsed = (call.op === 'baseToNew' ? baseToNewArgs : domainShiftArgs).safeParse(call.args);
    if (!parsed.success) return null;
    const { methods, seeds } = parsed.data;
    return {
      runs: methods.length * seeds.length,
      trained: methods.filter((m) => m !== 'zs').length * seeds.length,
      epochs,
      cocoopEpochs: methods.includes('cocoop') ? parsed.data.cocoopEpochs : null,
    };
  }

  /** Runs the form's experiment on the open project; wrong fields are said next to them instead. */
  async start(): Promise<void> {
    const p = this.projects.current;
    if (!p || p.images === 0) {
      showError({
        code: 'invalid_data',
        message: 'Open a project with images first: add a dataset on the Dataset screen.',
      });
      return;
    }
    const built = this.build(p.id);
    this.errors = 'errors' in built ? built.errors : {};
    if (!('call' in built)) return;
    const kind = this.kind;
    const plan = this.plan;
    this.total = plan?.runs ?? 0;
    this.runsDone = 0;
    this.running = true;
    this.runningKind = kind;
    this.progress = 'Starting';
    this.bar = null;
    this.abort = new AbortController();
    const options = { onProgress: (e: ExperimentProgress) => this.onProgress(e), signal: this.abort.signal };
    try {
      const { call } = built;
      const r =
        call.op === 'sweep'
          ? await this.engine.call('sweep', call.args, options)
          : call.op === 'baseToNew'
            ? await this.engine.call('baseToNew', call.args, options)
            : await this.engine.call('domainShift', call.args, options);
      const value = valueOr<ExperimentResult>(r);
      if (value) this.last = { ...this.last, [`${p.id}:${kind}`]: value };
    } finally {
      this.running = false;
      this.runningKind = null;
      this.progress = '';
      this.bar = null;
      this.abort = null;
    }
  }

  private onProgress(e: ExperimentProgress): void {
    this.progress = progressText(e);
    const runs = (value: number) => ({ value, max: this.total, text: `${Math.floor(value)} of ${this.total} runs` });
    if (e.kind === 'run') {
      this.total = e.total;
      this.runsDone = e.done;
      this.bar = runs(e.done);
    } else if (e.kind === 'epoch' && this.total > 0)
      this.bar = runs(Math.min(this.total, this.runsDone + e.epoch / Math.max(1, e.epochs)));
    else if (e.kind === 'features')
      this.bar = { value: e.done, max: Math.max(1, e.total), text: `${e.done} of ${e.total} images embedded` };
  }

  /** Hands the shown result's report file of `format` to the user (see [Note: page-made downloads]). */
  async download(format: ReportFormat): Promise<void> {
    const r = this.result;
    if (!r) return;
    try {
      const file = await reportFile(r, format, this.saver);
      this.saver.save(file.name, file.blob);
    } catch (e) {
      showError({
        code: 'internal',
        message: `The ${format.toUpperCase()} file could not be made: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }

  /** Stops the running experiment. */
  cancel(): void {
    this.abort?.abort();
  }
}
