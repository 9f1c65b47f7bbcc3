/**
 * @file State of the Learn screen and of the latest CoOp run: options, the model list, the zero-shot estimate,
 * progress, the live curve, the result and earlier runs' curves (renderer).
 */
import type { z } from 'zod';
import type { EngineClient } from '../../../shared/client';
import type { InstalledModel, ProjectDetail } from '../../../shared/contract';
import {
  DEFAULT_AUG_VIEWS,
  defaultSchedule,
  N_CTX_DEFAULT,
  scheduleEpochs,
  type EpochPoint,
  type LearnEstimate,
  type LearnProgress,
  type LearnResult,
  learnArgs,
  type TrainSchedule,
} from '../../../shared/contract/train';
import type { AppErrorData } from '../../../shared/result';
import { showError, valueOr } from '../app/errors.svelte';
import { fieldErrors } from '../app/field-errors';
import type { Navigation } from '../app/nav.svelte';
import type { ProjectsController } from '../projects/projects.svelte';

/** Arguments of `learn` as a caller passes them. */
export type LearnArgs = z.input<typeof learnArgs>;

/** CoOp options the Learn screen edits (the paper's defaults; epochs null = the schedule's count for the shots). */
export interface CoopOptions {
  model: string;
  shots: number;
  seed: number;
  nCtx: number;
  csc: boolean;
  position: 'end' | 'middle' | 'front';
  ctxInit: string;
  epochs: number | null;
  augViews: number;
  /** Null: the default for the project's class count (`defaultSchedule`). */
  schedule: TrainSchedule | null;
}

/** One finished run kept for overlaying curves. */
export interface RunCurve {
  label: string;
  curve: EpochPoint[];
}

/** The Learn screen's labels of the options, for the sentences next to each field (see [Note: plain field errors]). */
export const OPTION_LABELS: Record<string, string> = {
  model: 'Model',
  shots: 'Shots',
  seed: 'Seed',
  nCtx: 'Context length',
  position: 'Class position',
  ctxInit: 'Initial words',
  epochs: 'Epochs',
  augViews: 'Augmented views',
  schedule: 'Schedule',
};

/**
 * Where the run on the Learn screen stands: none yet, running, finished, cancelled by the user, or failed (its error
 * stays next to the Learn button: see [Note: errors stay on screen]).
 */
export type RunState = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

/** A duration in words: seconds, minutes or hours. */
export function duration(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  return s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

/** How many earlier runs' curves can be overlaid. */
const HISTORY_RUNS = 5;

function runLabel(r: LearnResult, id: number): string {
  return `Run ${id} (${r.settings.shots} shots, M=${r.settings.nCtx})`;
}

/** CoOp prompt learning on the open project. */
export class LearnController {
  options = $state<CoopOptions>({
    model: '',
    shots: 16,
    seed: 1,
    nCtx: N_CTX_DEFAULT,
    csc: false,
    position: 'end',
    ctxInit: '',
    epochs: null,
    augViews: DEFAULT_AUG_VIEWS,
    schedule: null,
  });
  /** Installed models that can be used (the Model list). */
  models = $state<InstalledModel[]>([]);
  running = $state(false);
  /** See {@link RunState}. */
  state = $state<RunState>('idle');
  /** Why the last run failed, in the engine's words (shown next to the Learn button until the next run). */
  error = $state<AppErrorData | null>(null);
  phase = $state('');
  features = $state<{ done: number; total: number } | null>(null);
  step = $state<Extract<LearnProgress, { kind: 'step' }> | null>(null);
  curve = $state<EpochPoint[]>([]);
  epochs = $state(0);
  backend = $state('');
  etaS = $state<number | null>(null);
  result = $state<LearnResult | null>(null);
  history = $state<RunCurve[]>([]);
  /** What is wrong with each option, in plain words, by option name (empty when all are fine). */
  errors = $state<Record<string, string>>({});
  /** Zero-shot accuracy of the hand-written prompt on all of the project's images, measured before training. */
  estimate = $state<{ key: string; accuracy: number | null; total: number } | null>(null);
  /** What the engine expects a run with the current settings to take (see [Note: learn estimate]). */
  timeEstimate = $state<{ key: string; value: LearnEstimate | null; failed: string | null } | null>(null);
  /** The same run under the other schedule, so the screen can say what switching costs or saves. */
  otherEstimate = $state<{ key: string; value: LearnEstimate } | null>(null);
  private abort: AbortController | null = null;
  /** The project whose stored runs are shown (see [Note: runs come back]). */
  private shownProject: number | null = null;
  private readonly finishedListeners: ((r: LearnResult) => void)[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly projects: ProjectsController,
    private readonly nav: Navigation,
  ) {
    projects.onOpen((p) => void this.restore(p));
  }

  /**
   * [Note: runs come back] Project runs are recorded in the store, so opening a project (after a reload, or from
   * another session) shows its latest finished run on Results and its earlier runs' curves for overlaying, as they
   * were when they finished. A run in progress is never replaced.
   */
  private async restore(p: ProjectDetail): Promise<void> {
    if (p.id === this.shownProject || this.running) return;
    this.shownProject = p.id;
    this.state = 'idle';
    this.error = null;
    this.result = null;
    this.curve = [];
    this.history = [];
    const done = p.runs.filter((r) => r.status === 'done').slice(0, HISTORY_RUNS);
    const details = await Promise.all(done.map((r) => this.engine.call('projectRun', { runId: r.id })));
    if (this.shownProject !== p.id || this.running) return;
    const failed = details.find((d) => !d.ok);
    if (failed && !failed.ok) showError(failed.error);
    const results = details.flatMap((d) => (d.ok && d.value.result ? [d.value.result] : []));
    this.history = results.map((r, i) => ({ label: runLabel(r, done[i]?.id ?? i + 1), curve: r.curve })).reverse();
    const latest = results[0];
    if (latest) {
      this.result = latest;
      this.curve = latest.curve;
      this.backend = latest.backend;
      this.epochs = latest.settings.epochs;
      this.state = 'done';
    }
  }

  /** Calls `listener` with each run that finishes on this page. */
  onFinished(listener: (r: LearnResult) => void): void {
    this.finishedListeners.push(listener);
  }

  /** Loads the usable installed models and picks the active one when no model is chosen yet. */
  async loadModels(): Promise<void> {
    const v = valueOr(await this.engine.call('modelsList', {}));
    if (!v) return;
    this.models = v.installed.filter((m) => m.problem === null);
    const active = this.models.find((m) => m.id === v.activeId);
    if (!this.options.model && active) this.options.model = active.dir;
  }

  /** What the zero-shot estimate depends on: the project, its prompt texts, its images and the model. */
  estimateKey(p: ProjectDetail): string {
    return [p.id, this.options.model, ...p.classList.map((c) => `${c.prompt}:${c.images}:${c.excluded}`)].join('|');
  }

  /**
   * Measures the zero-shot accuracy of "a photo of a {class}." on every usable image of the project with the chosen
   * model, so the Learn screen shows it before any run (a run then reports it again on its own test split).
   */
  async estimateZeroShot(projectId: number, key: string): Promise<void> {
    const model = this.options.model;
    if (this.estimate?.key === key) return;
    this.estimate = { key, accuracy: null, total: 0 };
    const r = await this.engine.call('zeroShot', { project: projectId, ...(model ? { model } : {}) });
    if (this.estimate?.key !== key) return;
    if (!r.ok) {
      this.estimate = null;
      showError(r.error);
      return;
    }
    this.estimate = { key, accuracy: r.value.accuracy, total: r.value.total };
  }

  /** Zero-shot accuracy of the hand-written prompt (epoch 0 of the curve), once known. */
  get zeroShot(): number | null {
    return this.result?.zeroShot.test.accuracy ?? this.curve[0]?.trainAccuracy ?? null;
  }

  /** The schedule that is the default for the open project's class count (`defaultSchedule`). */
  get defaultSchedule(): TrainSchedule {
    return defaultSchedule(this.projects.current?.classList.length ?? 0);
  }

  /** The schedule a run would use: the one chosen, else the default. */
  get schedule(): TrainSchedule {
    return this.options.schedule ?? this.defaultSchedule;
  }

  /** The schedule's epoch count for the chosen shots (what an empty Epochs field means; `scheduleEpochs`). */
  get defaultEpochs(): number {
    return scheduleEpochs(this.schedule, this.options.shots);
  }

  /** What the expected time depends on: every option, the project and its images. */
  timeKey(p: ProjectDetail): string {
    return JSON.stringify([this.options, p.id, p.classList.map((c) => [c.prompt, c.images, c.excluded])]);
  }

  /**
   * Asks the engine how long a run with the current settings would take, then the same run under the other
   * schedule. The first call for a model and project times a few of its images and training steps (seconds); later
   * calls reuse those timings. A failure (e.g. no image left for testing) is shown next to the estimate, not as an
   * error: the run itself would say it again.
   */
  async estimateTime(projectId: number, key: string): Promise<void> {
    if (this.timeEstimate?.key === key) return;
    this.timeEstimate = { key, value: null, failed: null };
    this.otherEstimate = null;
    const args = this.args(projectId);
    const r = await this.engine.call('estimateLearn', args);
    if (this.timeEstimate.key !== key) return;
    this.timeEstimate = r.ok ? { key, value: r.value, failed: null } : { key, value: null, failed: r.error.message };
    if (!r.ok) return;
    const other = await this.engine.call('estimateLearn', {
      ...args,
      schedule: r.value.schedule.schedule === 'fast' ? 'paper' : 'fast',
    });
    if (this.timeEstimate.key === key && other.ok) this.otherEstimate = { key, value: other.value };
  }

  /**
   * The expected time in words: the total, what it is made of, and the other schedule's total where that trains
   * differently (below two batches of training images `fast` is `paper` exactly).
   */
  get expectedTime(): { text: string; detail: string; other: string } {
    const t = this.timeEstimate;
    if (!t || (!t.value && !t.failed)) return { text: 'estimating…', detail: '', other: '' };
    if (!t.value) return { text: 'unknown', detail: t.failed ?? '', other: '' };
    const e = t.value;
    const steps = `${e.schedule.steps} steps${e.msPerStep !== null ? ` of about ${Math.round(e.msPerStep)} ms` : ''}`;
    const images = e.toEmbed > 0 ? `${e.toEmbed} images to embed, ` : '';
    const alt = this.otherEstimate?.key === t.key ? this.otherEstimate.value : null;
    const differs = alt && (alt.schedule.steps !== e.schedule.steps || alt.schedule.optimizer !== e.schedule.optimizer);
    return {
      text: e.seconds.total !== null ? `about ${duration(e.seconds.total)}` : 'measured once training starts',
      detail: `${images}${steps} (${e.schedule.schedule} schedule${e.threads > 1 ? `, ${e.threads} threads` : ''})`,
      other:
        differs && alt.seconds.total !== null
          ? `${alt.schedule.schedule} schedule: about ${duration(alt.seconds.total)} (${alt.schedule.steps} steps)`
          : '',
    };
  }

  /** The epoch count to show: the run's, else the one typed, else CoOp's for the shots. */
  get epochsShown(): number {
    return this.epochs || this.options.epochs || this.defaultEpochs;
  }

  /** Training steps done in the running (or last) run. */
  get stepsDone(): number {
    if (this.step) return (this.step.epoch - 1) * this.step.stepsPerEpoch + this.step.step;
    return this.curve.length > 1 ? 1 : 0;
  }

  /** Training steps of the whole run (1 until the first step reports). */
  get stepsTotal(): number {
    return this.step ? this.step.epochs * this.step.stepsPerEpoch : 1;
  }

  /**
   * [Note: learn on the project] The run reads the open project from the store (class prompt texts as edited,
   * excluded images left out, the embedding cache used) and is recorded there, so the UI passes the project id, not a
   * folder. The training backend is the engine's own choice from its settings (Settings screen), so it is not sent.
   */
  args(projectId: number): LearnArgs {
    const o = this.options;
    return {
      project: projectId,
      ...(o.model ? { model: o.model } : {}),
      shots: o.shots,
      seed: o.seed,
      nCtx: o.nCtx,
      csc: o.csc,
      position: o.position,
      ...(o.ctxInit.trim() ? { ctxInit: o.ctxInit.trim() } : {}),
      ...(o.epochs ? { epochs: o.epochs } : {}),
      augViews: o.augViews,
      ...(o.schedule ? { schedule: o.schedule } : {}),
    };
  }

  private onProgress = (e: LearnProgress): void => {
    if (e.kind === 'phase') this.phase = e.message;
    else if (e.kind === 'features') this.features = { done: e.done, total: e.total };
    else if (e.kind === 'step') {
      this.step = e;
      this.epochs = e.epochs;
      this.backend = e.backend;
      this.etaS = e.etaS;
    } else {
      this.curve = [...this.curve, e.point];
      this.epochs = e.epochs;
      this.backend = e.backend;
      this.etaS = e.etaS;
    }
  };

  /**
   * Starts a run on the open project (see [Note: learn on the project]); shows Results when it finishes.
   *
   * [Note: errors stay on screen] A run that fails keeps its error next to the Learn button (`error`), in the engine's
   * plain words, until the next run: a toast that vanishes after seconds is no place for "why did nothing happen".
   * A cancelled run says "Cancelled" and keeps its partial curve, never "Finished".
   */
  async start(): Promise<void> {
    const p = this.projects.current;
    if (!p || p.images === 0) {
      this.state = 'failed';
      this.error = {
        code: 'invalid_data',
        message: 'This project has no images yet: add a dataset on the Dataset screen.',
      };
      return;
    }
    const args = this.args(p.id);
    this.errors = fieldErrors(learnArgs, args, OPTION_LABELS);
    if (Object.keys(this.errors).length > 0) return;
    this.running = true;
    this.state = 'running';
    this.error = null;
    this.curve = [];
    this.step = null;
    this.features = null;
    this.phase = 'Starting';
    this.etaS = null;
    this.abort = new AbortController();
    try {
      const r = await this.engine.call('learn', args, {
        onProgress: this.onProgress,
        signal: this.abort.signal,
      });
      this.etaS = null;
      if (!r.ok) {
        this.state = r.error.code === 'cancelled' ? 'cancelled' : 'failed';
        this.error = r.error.code === 'cancelled' ? null : r.error;
        return;
      }
      const v = r.value;
      this.state = 'done';
      this.result = v;
      this.curve = v.curve;
      this.backend = v.backend;
      this.history = [
        ...this.history,
        { label: runLabel(v, v.project?.runId ?? this.history.length + 1), curve: v.curve },
      ].slice(-HISTORY_RUNS);
      for (const listener of this.finishedListeners) listener(v);
      this.nav.go('results');
      void this.projects.load();
    } finally {
      this.running = false;
      this.abort = null;
    }
  }

  cancel(): void {
    this.abort?.abort();
  }
}
