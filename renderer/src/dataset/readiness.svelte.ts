/**
 * @file Whether the open project is ready to learn with the shots chosen on Learn: per class the training,
 * validation and test images a run would take, the shots it will really use, and why it could not run (renderer).
 *
 * The numbers are the engine's `projectReadiness`, which applies the same shot rule as `learn` (see [Note: small
 * datasets] in electron/engine/train/shot-plan.ts), so what the Dataset and Learn screens say is what the run does.
 */
import type { EngineClient } from '../../../shared/client';
import type { ProjectReadiness } from '../../../shared/contract';
import type { LearnController } from '../learn/learn.svelte';
import type { ProjectsController } from '../projects/projects.svelte';

/** What a class's readiness problem means, in plain words. */
export const PROBLEM_TEXT = {
  no_images: 'no images yet',
  too_few_images: 'too few images',
  no_test_images: 'none left for testing',
} as const;

/** The readiness of the open project for the next run. */
export class ReadinessController {
  report = $state<ProjectReadiness | null>(null);
  /** What the report was asked for (project, classes as edited, shots, seed). */
  private asked = '';

  constructor(
    private readonly engine: EngineClient,
    private readonly projects: ProjectsController,
    private readonly learn: LearnController,
  ) {}

  /** What the report depends on; a screen calls {@link refresh} with it whenever it changes. */
  key(): string {
    const p = this.projects.current;
    if (!p) return '';
    const o = this.learn.options;
    return [p.id, o.shots, o.seed, ...p.classList.map((c) => `${c.id}:${c.images}:${c.excluded}`)].join('|');
  }

  /** Asks the engine again when `key` changed; shots or seeds that are not whole numbers yet keep the last report. */
  async refresh(key: string): Promise<void> {
    const p = this.projects.current;
    const { shots, seed } = this.learn.options;
    if (!p || key === this.asked) return;
    if (!Number.isInteger(shots) || shots < 1 || shots > 10_000 || !Number.isInteger(seed) || seed < 0) return;
    this.asked = key;
    const r = await this.engine.call('projectReadiness', { projectId: p.id, shots, seed });
    // A newer question may have been asked meanwhile; a failure leaves the card out (Learn still says why it fails).
    if (this.asked !== key) return;
    this.report = r.ok ? r.value : null;
  }

  /** The report when it is of the open project. */
  get current(): ProjectReadiness | null {
    return this.report && this.report.projectId === this.projects.current?.id ? this.report : null;
  }
}
