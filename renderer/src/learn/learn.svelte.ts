/**
 * @file State of a CoOp run: options, progress, the live curve, the result, and Try it (renderer).
 */
import {
  DEFAULT_AUG_VIEWS,
  type EpochPoint,
  type LearnProgress,
  type LearnResult,
} from '../../../shared/contract/train';
import type { PredictResult } from '../../../shared/contract/methods';
import type { ProjectDetail } from '../../../shared/contract';
import { callLearn, callPredict, type LearnArgs } from '../app/api';
import { engine } from '../app/client';
import { showError, valueOr } from '../app/errors.svelte';
import { nav } from '../app/nav.svelte';
import { projects } from '../projects/projects.svelte';
import { settings } from '../settings/settings.svelte';
import { uploadFiles } from '../dataset/upload';

/** CoOp options the Learn screen edits (the paper's defaults; epochs null = CoOp's count for the shots). */
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
}

/** One finished run kept for overlaying curves. */
export interface RunCurve {
  label: string;
  curve: EpochPoint[];
}

/** One class of a Try it answer: the probability under the learned prompt and under the hand-written one. */
export interface TryClass {
  name: string;
  learned: number | null;
  zeroShot: number | null;
}

/** What Try it shows for one image. */
export interface TryResult {
  name: string;
  previewUrl: string;
  /** Every class, highest learned probability first. */
  classes: TryClass[];
  learned: string | null;
  zeroShot: string | null;
}

/** Probability per class index from a prediction's top list (all classes when `top` covered them). */
function byLabel(p: PredictResult | undefined, n: number): (number | null)[] {
  const out: (number | null)[] = Array.from({ length: n }, () => null);
  for (const t of p?.predictions[0]?.top ?? []) if (t.label < n) out[t.label] = t.probability;
  return out;
}

/** Where the engine can read a picked file: its real path on the desktop, an upload in web mode. */
async function engineSidePath(file: File): Promise<string | undefined> {
  const api = window.coopStudio;
  if (api) {
    const path = api.pathForFile(file);
    if (path) return path;
  }
  const up = valueOr(await uploadFiles([{ file, path: `try-it/${file.name}` }], () => undefined));
  return up ? `${up.folder}/try-it/${file.name}` : undefined;
}

/** How many earlier runs' curves can be overlaid. */
const HISTORY_RUNS = 5;

function runLabel(r: LearnResult, id: number): string {
  return `Run ${id} (${r.settings.shots} shots, M=${r.settings.nCtx})`;
}

class LearnController {
  options = $state<CoopOptions>({
    model: '',
    shots: 16,
    seed: 1,
    nCtx: 16,
    csc: false,
    position: 'end',
    ctxInit: '',
    epochs: 20,
    augViews: DEFAULT_AUG_VIEWS,
  });
  running = $state(false);
  phase = $state('');
  features = $state<{ done: number; total: number } | null>(null);
  step = $state<Extract<LearnProgress, { kind: 'step' }> | null>(null);
  curve = $state<EpochPoint[]>([]);
  epochs = $state(0);
  backend = $state('');
  etaS = $state<number | null>(null);
  result = $state<LearnResult | null>(null);
  history = $state<RunCurve[]>([]);
  trying = $state(false);
  tried = $state<TryResult | null>(null);
  /** Zero-shot accuracy of the hand-written prompt on all of the project's images, measured before training. */
  estimate = $state<{ key: string; accuracy: number | null; total: number } | null>(null);
  private abort: AbortController | null = null;
  /** The project whose stored runs are shown (see [Note: runs come back]). */
  private shownProject: number | null = null;

  constructor() {
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
    this.result = null;
    this.curve = [];
    this.history = [];
    this.tried = null;
    const done = p.runs.filter((r) => r.status === 'done').slice(0, HISTORY_RUNS);
    const details = await Promise.all(done.map((r) => engine.call('projectRun', { runId: r.id })));
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
    }
  }

  /**
   * Measures the zero-shot accuracy of "a photo of a {class}." on every usable image of the project with the chosen
   * model, so the Learn screen shows it before any run (a run then reports it again on its own test split).
   */
  async estimateZeroShot(projectId: number, key: string): Promise<void> {
    const model = this.options.model;
    if (this.estimate?.key === key) return;
    this.estimate = { key, accuracy: null, total: 0 };
    const r = await engine.call('zeroShot', { project: projectId, ...(model ? { model } : {}) });
    if (this.estimate.key !== key) return;
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

  /**
   * [Note: learn on the project] The run reads the open project from the store (class prompt texts as edited,
   * excluded images left out, the embedding cache used) and is recorded there, so the UI passes the project id, not a
   * folder.
   */
  private args(projectId: number, epochs: number | null): LearnArgs {
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
      ...(epochs ? { epochs } : {}),
      augViews: o.augViews,
      ...(settings.learnBackend ? { backend: settings.learnBackend } : {}),
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

  /** Starts a run on the open project (see [Note: learn on the project]). */
  async start(): Promise<void> {
    const p = projects.current;
    if (!p || p.images === 0) {
      showError({
        code: 'invalid_data',
        message: 'This project has no images yet: add a dataset on the Dataset screen.',
      });
      return;
    }
    this.running = true;
    this.curve = [];
    this.step = null;
    this.features = null;
    this.phase = 'Starting';
    this.etaS = null;
    this.abort = new AbortController();
    try {
      const r = valueOr(
        await callLearn(this.args(p.id, this.options.epochs), {
          onProgress: this.onProgress,
          signal: this.abort.signal,
        }),
      );
      if (!r) return;
      this.result = r;
      this.curve = r.curve;
      this.backend = r.backend;
      this.history = [
        ...this.history,
        { label: runLabel(r, r.project?.runId ?? this.history.length + 1), curve: r.curve },
      ].slice(-HISTORY_RUNS);
      this.tried = null;
      nav.go('results');
      void projects.load();
    } finally {
      this.running = false;
      this.abort = null;
    }
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** Classifies one image with the learned context and with the hand-written prompt (the `predict` operation). */
  async tryImage(file: File): Promise<void> {
    const r = this.result;
    if (!r) {
      showError({ code: 'not_found', message: 'Learn a prompt first: Try it uses the learned context.' });
      return;
    }
    this.trying = true;
    try {
      const path = await engineSidePath(file);
      if (!path) return;
      const n = r.data.classes.length;
      const common = { model: r.model.dir, images: [path], top: n };
      const [learned, zeroShot] = await Promise.all([
        callPredict({ ...common, context: r.contextPath }),
        callPredict({ ...common, classes: r.data.classes.map((c) => c.prompt), template: r.zeroShot.template }),
      ]);
      const l = valueOr(learned);
      const z = valueOr(zeroShot);
      const failed = l?.predictions[0]?.error ?? z?.predictions[0]?.error;
      if (failed) showError({ code: 'invalid_image', message: `${file.name}: ${failed}` });
      if (!l || !z || failed) return;
      const lp = byLabel(l, n);
      const zp = byLabel(z, n);
      const classes = r.data.classes
        .map((c, i) => ({ name: c.name, learned: lp[i] ?? null, zeroShot: zp[i] ?? null }))
        .sort((a, b) => (b.learned ?? 0) - (a.learned ?? 0));
      if (this.tried) URL.revokeObjectURL(this.tried.previewUrl);
      this.tried = {
        name: file.name,
        previewUrl: URL.createObjectURL(file),
        classes,
        learned: r.data.classes[l.predictions[0]?.top[0]?.label ?? -1]?.name ?? null,
        zeroShot: r.data.classes[z.predictions[0]?.top[0]?.label ?? -1]?.name ?? null,
      };
    } finally {
      this.trying = false;
    }
  }
}

/** The shared learning state. */
export const learn = new LearnController();
