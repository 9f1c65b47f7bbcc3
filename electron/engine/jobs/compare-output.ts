/**
 * @file The last steps of `compare`: the method x shots table over seeds, the result object, and its files (engine
 * worker, plain Node).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import type {
  CompareCell,
  CompareMethod,
  CompareResult,
  CompareRow,
  compareArgs,
} from '../../../shared/contract/methods';
import { defaultSchedule } from '../../../shared/contract/train';
import type { ClipModel } from '../clip/clip-model';
import type { FolderDataset } from '../data/folder-dataset';
import type { EmbedAllResult } from '../features/features';
import { compareCsv, comparePng, compareSvg, formatCompareTable } from '../reports/compare-report';
import { meanStd } from '../train/metrics';
import type { SweepPlan } from './compare-splits';
import type { RunSource } from './run-source';

/** What the summary needs from the sweep's plan. */
export interface ComparePlanSummary {
  methods: CompareMethod[];
  shotsList: number[];
  seeds: number[];
  model: ClipModel;
  ds: Pick<RunSource, 'root' | 'classes'>;
  testDs: FolderDataset | null;
  classNames: string[];
  prompts: string[];
  sweep: SweepPlan;
  warnings: string[];
}

/** Mean and sample std of the test accuracy over seeds, method x shots (cells without a row left out). */
export function compareTable(methods: readonly CompareMethod[], shots: readonly number[], rows: CompareRow[]) {
  const table: CompareCell[] = [];
  for (const method of methods)
    for (const k of shots) {
      const acc = rows.filter((r) => r.method === method && r.shots === k).map((r) => r.testAccuracy);
      if (acc.length > 0) table.push({ method, shots: k, ...meanStd(acc), seeds: acc.length });
    }
  return table;
}

/** Step 5: the result of `compare` (files are added by {@link writeCompareFiles}). */
export function summariseCompare(
  plan: ComparePlanSummary,
  args: z.output<typeof compareArgs>,
  rows: CompareRow[],
  run: { backend: string | null; featuresS: number; totalS: number; emb: EmbedAllResult },
): CompareResult {
  return {
    model: { id: plan.model.info.id, dir: plan.model.info.dir },
    data: {
      root: plan.ds.root,
      test: plan.testDs?.root ?? null,
      classes: plan.classNames,
      folders: plan.ds.classes.map((c) => c.name),
      prompts: plan.prompts,
    },
    settings: {
      methods: plan.methods,
      shots: plan.shotsList,
      seeds: plan.seeds,
      template: args.template,
      augViews: args.augViews,
      schedule: args.schedule ?? defaultSchedule(plan.classNames.length),
      epochs: args.epochs ?? null,
      nCtx: args.nCtx,
      kgLambda: args.kgLambda,
      tipfEpochs: args.tipfEpochs,
      cocoopEpochs: args.cocoopEpochs,
    },
    backend: run.backend,
    table: compareTable(plan.methods, plan.sweep.shots, rows),
    rows,
    skipped: plan.sweep.skipped,
    splits: plan.sweep.described,
    splitNote: plan.sweep.splitNote,
    notes: plan.sweep.notes,
    warnings: plan.warnings,
    timings: {
      featuresS: run.featuresS,
      totalS: run.totalS,
      imagesEmbedded: run.emb.computed,
      imagesFromCache: run.emb.cached,
    },
    files: [],
  };
}

/** Step 6: compare.json, compare.csv, the table as text and the chart (SVG, PNG) in `out`; returns the paths. */
export async function writeCompareFiles(result: CompareResult, out: string): Promise<string[]> {
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  const n = result.settings.seeds.length;
  const title = `Few-shot methods on ${basename(result.data.root)} (${n} seed${n > 1 ? 's' : ''})`;
  const files: [string, string | Buffer][] = [
    ['compare.csv', compareCsv(result)],
    ['compare-table.txt', formatCompareTable(result).join('\n') + '\n'],
    ['compare.svg', compareSvg(result, title)],
    ['compare.png', await comparePng(result, title)],
  ];
  const written: string[] = [];
  for (const [name, body] of files) {
    await writeFile(join(dir, name), body);
    written.push(join(dir, name));
  }
  written.push(join(dir, 'compare.json'));
  await writeFile(join(dir, 'compare.json'), JSON.stringify({ ...result, files: written }, null, 2));
  return written;
}
