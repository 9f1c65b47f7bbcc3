/**
 * @file State of a CoOp run: options, progress, the live curve, the result, and Try it (renderer).
 */
import type { ClassificationReport, EpochPoint, LearnProgress, LearnResult } from '../../../shared/contract/train';
import { callEvaluate, callLearn, type LearnArgs } from './api';
import { showError, toasts, valueOr } from './errors.svelte';
import { nav } from './nav.svelte';
import { projects } from './projects.svelte';
import { settings } from './settings.svelte';
import { uploadFiles } from './upload';

/** CoOp options the Learn screen edits (paper defaults; epochs kept short for a demo). */
export interface CoopOptions {
  model: string;
  shots: number;
  seed: number;
  nCtx: number;
  csc: boolean;
  position: 'end' | 'middle' | 'front';
  ctxInit: string;
  epochs: number;
  augViews: number;
}

/** One finished run kept for overlaying curves. */
export interface RunCurve {
  label: string;
  curve: EpochPoint[];
}

/** What Try it shows for one image. */
export interface TryResult {
  name: string;
  previewUrl: string;
  learned: string | null;
  zeroShot: string | null;
}

function predicted(report: ClassificationReport): string | null {
  for (const row of report.confusion) {
    const j = row.findIndex((n) => n > 0);
    if (j >= 0) return report.perClass[j]?.name ?? null;
  }
  return null;
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
    augViews: 4,
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
  private abort: AbortController | null = null;

  /** Zero-shot accuracy of the hand-written prompt (epoch 0 of the curve), once known. */
  get zeroShot(): number | null {
    return this.result?.zeroShot.test.accuracy ?? this.curve[0]?.trainAccuracy ?? null;
  }

  private args(folder: string, epochs: number): LearnArgs {
    const o = this.options;
    const prompts: Record<string, string> = {};
    for (const c of projects.current?.classList ?? []) prompts[c.folderName] = c.prompt;
    return {
      data: folder,
      ...(o.model ? { model: o.model } : {}),
      shots: o.shots,
      seed: o.seed,
      nCtx: o.nCtx,
      csc: o.csc,
      position: o.position,
      ...(o.ctxInit.trim() ? { ctxInit: o.ctxInit.trim() } : {}),
      epochs,
      augViews: o.augViews,
      prompts,
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

  /** Starts a run on the open project's dataset folder. */
  async start(): Promise<void> {
    const folder = projects.dataFolder();
    if (!folder) {
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
        await callLearn(this.args(folder, this.options.epochs), {
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
        { label: `Run ${this.history.length + 1} (${r.settings.shots} shots, M=${r.settings.nCtx})`, curve: r.curve },
      ];
      this.tried = null;
      nav.go('results');
    } finally {
      this.running = false;
      this.abort = null;
    }
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** Classifies one image with the learned context and with the hand-written prompt. */
  async tryImage(file: File): Promise<void> {
    const r = this.result;
    const first = r?.data.classes[0]?.name;
    if (!r || !first) {
      showError({ code: 'not_found', message: 'Learn a prompt first: Try it uses the learned context.' });
      return;
    }
    this.trying = true;
    try {
      // [Note: try it through evaluate] There is no single-image classify operation yet, so the image is placed in a
      // one-class folder and evaluated; the confusion row of that class names each prompt's prediction.
      const up = valueOr(await uploadFiles([{ file, path: `${first}/${file.name}` }], () => undefined));
      if (!up) return;
      const ev = valueOr(await callEvaluate({ data: up.folder, context: r.contextPath, model: r.model.dir }));
      if (!ev) return;
      if (this.tried) URL.revokeObjectURL(this.tried.previewUrl);
      this.tried = {
        name: file.name,
        previewUrl: URL.createObjectURL(file),
        learned: predicted(ev.test),
        zeroShot: predicted(ev.zeroShot.test),
      };
      for (const w of ev.warnings) toasts.push('info', 'Note', w, 6000);
    } finally {
      this.trying = false;
    }
  }
}

/** The shared learning state. */
export const learn = new LearnController();
