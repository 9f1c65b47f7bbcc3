/**
 * @file What every experiment job does around its runs: the mean ± std table, the environment record, the progress
 * of runs with a time estimate, and the reports written with `out` (engine worker, plain Node).
 */
import { platform, arch } from 'node:process';
import type { JobContext } from '../../../shared/contract/define';
import type {
  ExperimentEnvironment,
  ExperimentProgress,
  ExperimentTable,
  MeanStd,
} from '../../../shared/contract/experiments';
import { appVersion } from '../settings/paths';
import { meanStd } from '../train/metrics';
import { experimentReport, type ExperimentResult } from '../../../shared/experiment-report';
import { writeExperimentReports } from '../reports/experiment-report';

/** One measured value of a table cell. */
export interface TableEntry {
  group: string;
  series: string;
  value: number;
}

/** Mean ± std with the values it summarises. */
export function summarise(values: readonly number[]): MeanStd {
  return { ...meanStd(values), values: [...values] };
}

/** The experiment table (see [Note: experiment table]): groups and series in first-seen order, one cell per pair. */
export function buildTable(
  head: Pick<ExperimentTable, 'title' | 'groupAxis' | 'metric'>,
  entries: readonly TableEntry[],
): ExperimentTable {
  const groups = [...new Set(entries.map((e) => e.group))];
  const series = [...new Set(entries.map((e) => e.series))];
  const cells: ExperimentTable['cells'] = [];
  for (const group of groups)
    for (const s of series) {
      const values = entries.filter((e) => e.group === group && e.series === s).map((e) => e.value);
      if (values.length > 0) cells.push({ group, series: s, ...summarise(values) });
    }
  return { ...head, groups, series, cells };
}

/** Where and with what the experiment ran. */
export function environment(backend: string | null, provider: string): ExperimentEnvironment {
  return {
    appVersion: appVersion(),
    node: process.version,
    platform,
    arch,
    backend,
    provider,
    createdAt: new Date().toISOString(),
  };
}

/** Counts runs and reports each one, with an estimate of the rest after the first training run. */
export class RunCounter {
  private done = 0;
  private estimated = false;

  constructor(
    private readonly total: number,
    private readonly ctx: Pick<JobContext<ExperimentProgress>, 'progress'>,
  ) {}

  /** Reports one finished run; `trained` runs feed the estimate of the trained runs left. */
  finished(run: string, seed: number, accuracy: number, seconds: number, trainedLeft?: number): void {
    this.done++;
    this.ctx.progress({ kind: 'run', done: this.done, total: this.total, run, seed, accuracy, seconds });
    if (!this.estimated && trainedLeft !== undefined && trainedLeft > 0) {
      this.estimated = true;
      const s = trainedLeft * seconds;
      this.ctx.progress({
        kind: 'estimate',
        seconds: s,
        message: `About ${s < 90 ? `${Math.ceil(s)} s` : `${Math.round(s / 60)} min`} for the ${trainedLeft} training runs left (${seconds.toFixed(1)} s for the first).`,
      });
    }
  }

  /** Runs reported so far. */
  get count(): number {
    return this.done;
  }
}

/** Writes the reports of `result` into `out` when given; returns the files written. */
export async function maybeWriteReports(out: string | undefined, result: ExperimentResult): Promise<string[]> {
  return out ? writeExperimentReports(out, experimentReport(result)) : [];
}
