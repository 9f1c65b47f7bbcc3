/**
 * @file The open project's runs: the list with method, shots, seed, date and accuracy, which run Results shows, and
 * which earlier runs' curves are overlaid on its learning curve (renderer).
 *
 * [Note: the run shown] Results shows the latest finished run unless the user opened another one from the run list
 * (or a URL named it: see [Note: routes] in app/routes.ts). `chosen` holds that other run; a new run, or another
 * project, goes back to the latest.
 */
import { count } from '../../../shared/words';
import type { EngineClient } from '../../../shared/client';
import type { ProjectDetail, RunSummary } from '../../../shared/contract';
import { COMPARE_METHODS, METHOD_LABELS, type CompareMethod } from '../../../shared/contract/methods';
import type { LearnResult } from '../../../shared/contract/train';
import { showError, valueOr } from '../app/errors.svelte';
import type { LearnController, RunCurve } from '../learn/learn.svelte';
import type { ProjectsController } from '../projects/projects.svelte';

/** A method's name for people ("CoOp", "KgCoOp"), its id when the app does not know it. */
export function methodLabel(method: string): string {
  return (COMPARE_METHODS as readonly string[]).includes(method) ? METHOD_LABELS[method as CompareMethod] : method;
}

/** "CoOp · 8 shots · seed 1": what a run learned, for labels. */
export function runSettingsText(run: { method: string; shots: number; seed: number }): string {
  return `${methodLabel(run.method)} · ${count(run.shots, 'shot')} · seed ${run.seed}`;
}

/** A run's date and time as the reader's locale writes them (short). */
export function runDate(at: number): string {
  // A formatted value, never kept or mutated: no reactive date needed.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "Run 7 · CoOp · 8 shots · seed 1 · 3 Mar 2025, 14:02 · 92.0%": a run as lists and overlays name it. */
export function runLabel(run: RunSummary): string {
  const acc = run.testAccuracy === null ? run.status : `${(run.testAccuracy * 100).toFixed(1)}%`;
  return `Run ${run.id} · ${runSettingsText(run)} · ${runDate(run.createdAt)} · ${acc}`;
}

/** The runs of the open project and the one Results shows (see [Note: the run shown]). */
export class RunHistoryController {
  /** Every run of the open project, newest first, with its curve. */
  runs = $state<RunSummary[]>([]);
  /** A run other than the latest that the user opened, with its result. */
  chosen = $state<{ runId: number; result: LearnResult } | null>(null);
  /** Ids of the runs whose curves are overlaid on the shown run's curve. */
  overlaid = $state<number[]>([]);
  /** The run being opened. */
  opening = $state<number | null>(null);
  private projectId: number | null = null;

  constructor(
    private readonly engine: EngineClient,
    private readonly projects: ProjectsController,
    private readonly learn: LearnController,
  ) {
    projects.onOpen((p) => this.projectOpened(p));
    learn.onFinished(() => {
      this.chosen = null;
      void this.load();
    });
  }

  private async projectOpened(p: ProjectDetail): Promise<void> {
    if (p.id !== this.projectId) {
      this.projectId = p.id;
      this.chosen = null;
      this.overlaid = [];
      this.runs = p.runs;
    }
    await this.load();
  }

  /** Reloads the open project's runs with their curves. */
  async load(): Promise<void> {
    const id = this.projects.current?.id;
    if (id === undefined) return;
    const r = await this.engine.call('projectRuns', { projectId: id, curves: true });
    if (r.ok && this.projects.current?.id === id) this.runs = r.value.runs;
  }

  /** The run Results shows (see [Note: the run shown]). */
  get shown(): LearnResult | null {
    return this.chosen?.result ?? this.learn.result;
  }

  /** The store's id of the run shown (null for a run outside a project). */
  get shownRunId(): number | null {
    return this.shown?.project?.runId ?? null;
  }

  /** Whether the run shown is an earlier one than the project's latest finished run. */
  get showingEarlier(): boolean {
    return this.chosen !== null && this.chosen.runId !== this.learn.result?.project?.runId;
  }

  /** Finished runs: the ones that can be opened. */
  get finished(): RunSummary[] {
    return this.runs.filter((r) => r.status === 'done');
  }

  /** Shows run `runId` on Results; false when it cannot be shown (not finished, or gone). */
  async open(runId: number): Promise<boolean> {
    if (runId === this.learn.result?.project?.runId) {
      this.chosen = null;
      return true;
    }
    if (this.chosen?.runId === runId) return true;
    this.opening = runId;
    try {
      const d = valueOr(await this.engine.call('projectRun', { runId }));
      if (!d) return false;
      if (!d.result) {
        showError({
          code: 'not_found',
          message: `Run ${runId} has no results to show (it ${d.status === 'running' ? 'is still running' : `ended as ${d.status}`}).`,
        });
        return false;
      }
      this.chosen = { runId, result: d.result };
      return true;
    } finally {
      this.opening = null;
    }
  }

  /** Goes back to the latest run. */
  showLatest(): void {
    this.chosen = null;
  }

  /** Overlays run `runId`'s curve on the shown run's, or takes it off. */
  toggleOverlay(runId: number): void {
    this.overlaid = this.overlaid.includes(runId)
      ? this.overlaid.filter((id) => id !== runId)
      : [...this.overlaid, runId];
  }

  /** The overlaid runs' curves (the shown run itself is never overlaid on itself). */
  get overlay(): RunCurve[] {
    return this.runs
      .filter((r) => this.overlaid.includes(r.id) && r.id !== this.shownRunId && r.curve?.length)
      .map((r) => ({ label: `Run ${r.id} (${runSettingsText(r)})`, curve: r.curve ?? [] }));
  }
}
