/**
 * @file State of "Where the model looks": the image whose similarity maps are shown, the `similarityMap` job for the
 * shown run's learned context and hand-written prompt, the class whose overlays are on screen, and the PNG of the
 * side-by-side view (renderer).
 *
 * The engine draws overlays for the top 3 classes of the learned prompt at first; choosing another class asks for
 * that class's overlays only, and keeps every class already drawn for this image.
 */
import type { EngineClient } from '../../../shared/client';
import type { MapPrompt, SimilarityMapResult } from '../../../shared/contract/similarity-map';
import type { LearnResult } from '../../../shared/contract/train';
import { showError, valueOr } from '../app/errors.svelte';
import { browserSaver, type FileSaver } from '../ui/save-file';
import { mapSheetPng } from './map-sheet';

/** The image a map is asked for. */
export interface MapTarget {
  /** The image on the engine's disk. */
  path: string;
  /** What the user calls it (its file name). */
  name: string;
  /** Its true class index in the run (a test image), null when unknown (Try it). */
  label: number | null;
  run: LearnResult;
}

/** One side of the view: a prompt's overlay of the shown class. */
export interface MapPanel {
  prompt: MapPrompt;
  /** "Hand-written prompt" or "Learned prompt". */
  title: string;
  /** The prompt text of the class. */
  text: string;
  /** The image's probability of the class under this prompt. */
  probability: number;
  /** The overlay as a data URL (PNG). */
  src: string;
}

/** What a prompt is called on screen. */
export const PROMPT_TITLES: Record<MapPrompt, string> = {
  'hand-written': 'Hand-written prompt',
  learned: 'Learned prompt',
};

type Overlay = SimilarityMapResult['overlays'][number];

/** "Where the model looks" for one image at a time. */
export class SimilarityController {
  target = $state<MapTarget | null>(null);
  busy = $state(false);
  phase = $state('');
  result = $state<SimilarityMapResult | null>(null);
  /** The class whose overlays are shown. */
  classIndex = $state(0);
  /** Where the PNG goes (tests record it). */
  saver: FileSaver = browserSaver;
  private overlays = $state<Overlay[]>([]);
  private abort: AbortController | null = null;
  /** Counts the images opened, so an answer for an image no longer shown is dropped. */
  private opened = 0;

  constructor(private readonly engine: EngineClient) {}

  /** Asks for the maps of `target` under its run's learned context and hand-written prompt. */
  async open(target: MapTarget): Promise<void> {
    this.abort?.abort();
    const n = ++this.opened;
    this.target = target;
    this.result = null;
    this.overlays = [];
    const r = await this.call(target, undefined);
    if (!r || n !== this.opened) return;
    this.result = r;
    this.overlays = r.overlays;
    this.classIndex = r.overlays[0]?.classIndex ?? 0;
  }

  /** Shows class `i`, asking the engine for its overlays when they are not drawn yet. */
  async choose(i: number): Promise<void> {
    const target = this.target;
    const n = this.opened;
    this.classIndex = i;
    if (!target || !this.result || this.overlays.some((o) => o.classIndex === i)) return;
    const r = await this.call(target, [i]);
    if (r && n === this.opened) this.overlays = [...this.overlays, ...r.overlays];
  }

  private async call(target: MapTarget, classIndices: number[] | undefined): Promise<SimilarityMapResult | undefined> {
    const abort = new AbortController();
    this.abort = abort;
    this.busy = true;
    try {
      const res = await this.engine.call(
        'similarityMap',
        {
          model: target.run.model.dir,
          image: target.path,
          context: target.run.contextPath,
          template: target.run.zeroShot.template,
          ...(classIndices ? { classIndices } : {}),
        },
        { onProgress: (e) => (this.phase = e.message), signal: abort.signal },
      );
      // A request the user moved away from (another image, or the view closed) ends quietly.
      return abort.signal.aborted ? undefined : valueOr(res);
    } finally {
      if (this.abort === abort) {
        this.busy = false;
        this.phase = '';
        this.abort = null;
      }
    }
  }

  /** The two sides of the shown class, hand-written first (empty while its overlays are being drawn). */
  get panels(): MapPanel[] {
    const r = this.result;
    if (!r) return [];
    return this.overlays
      .filter((o) => o.classIndex === this.classIndex)
      .map((o) => {
        const p = r.prompts.find((x) => x.prompt === o.prompt);
        return {
          prompt: o.prompt,
          title: PROMPT_TITLES[o.prompt],
          text: p?.texts[o.classIndex] ?? o.className,
          probability: p?.probabilities[o.classIndex] ?? 0,
          src: `data:image/png;base64,${o.png}`,
        };
      })
      .sort((a, b) => (a.prompt === 'hand-written' ? -1 : b.prompt === 'hand-written' ? 1 : 0));
  }

  /** The cosine range the shown class's overlays share. */
  get scale(): { min: number; max: number } | null {
    const o = this.overlays.find((x) => x.classIndex === this.classIndex);
    return o ? { min: o.min, max: o.max } : null;
  }

  /** Saves the side-by-side view of the shown class as one PNG. */
  async savePng(): Promise<void> {
    const r = this.result;
    const scale = this.scale;
    const panels = this.panels;
    if (!r || !scale || panels.length === 0 || !this.target) return;
    const className = r.classNames[this.classIndex] ?? String(this.classIndex);
    try {
      const png = await mapSheetPng({ image: this.target.name, className, panels, scale });
      const stem = this.target.name.replace(/\.[^.]+$/, '');
      this.saver.save(`${stem}-${className}-where-the-model-looks.png`.replace(/[^\w.()-]+/g, '_'), png);
    } catch (e) {
      showError({
        code: 'internal',
        message: `The PNG could not be made: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }

  /** Closes the view (a job still drawing is cancelled). */
  close(): void {
    this.abort?.abort();
    this.opened++;
    this.target = null;
    this.result = null;
    this.overlays = [];
  }
}
