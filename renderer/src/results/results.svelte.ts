/**
 * @file State of the Results screen: the shown run's derived numbers, the confusion cell that is open, the
 * misclassified images with their thumbnails, and Try it (renderer).
 */
import type { EngineClient } from '../../../shared/client';
import type { ImageInfo } from '../../../shared/contract';
import type { PredictResult } from '../../../shared/contract/methods';
import type { LearnResult, TestPrediction } from '../../../shared/contract/train';
import { showError, valueOr } from '../app/errors.svelte';
import type { Platform } from '../app/platform';
import { uploadFiles } from '../dataset/upload';
import type { ProjectsController } from '../projects/projects.svelte';
import type { RunHistoryController } from './run-history.svelte';

/** Misclassified images shown at first and added by each "Show more". */
export const MIS_PAGE = 60;

/** One class of a Try it answer: the probability under the learned prompt and under the hand-written one. */
export interface TryClass {
  name: string;
  learned: number | null;
  zeroShot: number | null;
}

/** What Try it shows for one image. */
export interface TryResult {
  name: string;
  /** The image on the engine's disk (its real path, or where it was uploaded). */
  path: string;
  previewUrl: string;
  /** Every class, highest learned probability first. */
  classes: TryClass[];
  learned: string | null;
  zeroShot: string | null;
}

/** A cell of the confusion matrix: true class `t`, predicted class `p`. */
export interface ConfusionCell {
  t: number;
  p: number;
}

/** Project images by id and by path, to show predictions with thumbnails. */
export interface ImageIndex {
  byId: Map<number, ImageInfo>;
  byPath: Map<string, ImageInfo>;
}

/** Probability per class index from a prediction's top list (all classes when `top` covered them). */
function byLabel(p: PredictResult | undefined, n: number): (number | null)[] {
  const out: (number | null)[] = Array.from({ length: n }, () => null);
  for (const t of p?.predictions[0]?.top ?? []) if (t.label < n) out[t.label] = t.probability;
  return out;
}

/** The Results screen of the run shown (`runs.shown`). */
export class ResultsController {
  /** The confusion cell whose images are shown (null: dialog closed). */
  cell = $state<ConfusionCell | null>(null);
  exporting = $state(false);
  /** How many misclassified images are listed. */
  misShown = $state(MIS_PAGE);
  index = $state<ImageIndex | null>(null);
  trying = $state(false);
  private triedImage = $state<{ run: LearnResult; tried: TryResult } | null>(null);

  constructor(
    private readonly engine: EngineClient,
    private readonly platform: Platform,
    private readonly runs: RunHistoryController,
    private readonly projects: ProjectsController,
  ) {}

  /** The run shown: the latest run of the open project, or the one opened from its runs (see [Note: the run shown]). */
  get result(): LearnResult | null {
    return this.runs.shown;
  }

  /** Test accuracy gain over zero-shot, in points. */
  get gain(): number {
    const r = this.result;
    return r ? (r.test.accuracy - r.zeroShot.test.accuracy) * 100 : 0;
  }

  /** The largest confusion count (the cells' colour scale). */
  get maxCell(): number {
    return this.result ? Math.max(1, ...this.result.test.confusion.flat()) : 1;
  }

  /** The test images of the open confusion cell. */
  get cellItems(): TestPrediction[] {
    const r = this.result;
    const cell = this.cell;
    return r && cell ? r.predictions.filter((x) => x.label === cell.t && x.predicted === cell.p) : [];
  }

  /** Title of the open cell's dialog. */
  get cellTitle(): string {
    const r = this.result;
    const cell = this.cell;
    if (!r || !cell) return '';
    const n = r.test.confusion[cell.t]?.[cell.p] ?? 0;
    return `${n} × ${r.test.perClass[cell.t]?.name} predicted as ${r.test.perClass[cell.p]?.name}`;
  }

  /** Misclassified test images, the most confident mistakes first. */
  get mistakes(): TestPrediction[] {
    const r = this.result;
    return r ? r.predictions.filter((x) => x.label !== x.predicted).sort((a, b) => b.confidence - a.confidence) : [];
  }

  /** The name of class `i` of the shown run. */
  className(i: number): string {
    const r = this.result;
    return r?.data.classes[i]?.name ?? r?.test.perClass[i]?.name ?? String(i);
  }

  /** The project image of a test prediction (for its thumbnail), once the index is loaded. */
  imageOf(x: TestPrediction): ImageInfo | undefined {
    return (x.imageId !== null ? this.index?.byId.get(x.imageId) : undefined) ?? this.index?.byPath.get(x.path);
  }

  openCell(cell: ConfusionCell): void {
    this.cell = cell;
  }

  closeCell(): void {
    this.cell = null;
  }

  showMoreMistakes(): void {
    this.misShown += MIS_PAGE;
  }

  /** A run is shown (a new one, or another project's): lists its first mistakes and loads the image index. */
  async resultShown(): Promise<void> {
    this.misShown = MIS_PAGE;
    this.index = await this.imageIndex();
  }

  /** Every image of the open project by id and by path. */
  private async imageIndex(): Promise<ImageIndex> {
    // Built once and replaced whole, never mutated while shown: plain Maps need no reactivity.
    /* eslint-disable svelte/prefer-svelte-reactivity */
    const byId = new Map<number, ImageInfo>();
    const byPath = new Map<string, ImageInfo>();
    /* eslint-enable svelte/prefer-svelte-reactivity */
    const p = this.projects.current;
    if (p) {
      const v = valueOr(await this.engine.call('projectImages', { projectId: p.id, limit: 100_000 }));
      for (const img of v?.images ?? []) {
        byId.set(img.id, img);
        byPath.set(img.path, img);
      }
    }
    return { byId, byPath };
  }

  /** Try it's answer for the shown run (none once another run is shown). */
  get tried(): TryResult | null {
    return this.triedImage && this.triedImage.run === this.result ? this.triedImage.tried : null;
  }

  /** Where the engine can read a picked file: its real path on the desktop, an upload in web mode. */
  private async engineSidePath(file: File): Promise<string | undefined> {
    const path = this.platform.pathForFile(file);
    if (path) return path;
    const up = valueOr(await uploadFiles([{ file, path: `try-it/${file.name}` }], () => undefined));
    return up ? `${up.folder}/try-it/${file.name}` : undefined;
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
      const path = await this.engineSidePath(file);
      if (!path) return;
      const n = r.data.classes.length;
      const common = { model: r.model.dir, images: [path], top: n };
      const [learned, zeroShot] = await Promise.all([
        this.engine.call('predict', { ...common, context: r.contextPath }),
        this.engine.call('predict', {
          ...common,
          classes: r.data.classes.map((c) => c.prompt),
          template: r.zeroShot.template,
        }),
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
      if (this.triedImage) URL.revokeObjectURL(this.triedImage.tried.previewUrl);
      this.triedImage = {
        run: r,
        tried: {
          name: file.name,
          path,
          previewUrl: URL.createObjectURL(file),
          classes,
          learned: r.data.classes[l.predictions[0]?.top[0]?.label ?? -1]?.name ?? null,
          zeroShot: r.data.classes[z.predictions[0]?.top[0]?.label ?? -1]?.name ?? null,
        },
      };
    } finally {
      this.trying = false;
    }
  }
}
