/**
 * @file Writes an experiment's shareable outputs into a folder: the table and the runs as CSV, the result as JSON,
 * the chart with error bars as SVG and PNG, and the self-contained HTML report (engine worker, plain Node).
 *
 * The files' text comes from shared/experiment-report.ts (see [Note: experiment report] and [Note: one report, two
 * writers] there); this file adds the disk and the PNG, which sharp rasterises from the same SVG.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { ExperimentTable } from '../../../shared/contract/experiments';
import {
  experimentCsv,
  experimentHtml,
  experimentJson,
  experimentSvg,
  type ExperimentReport,
} from '../../../shared/experiment-report';

/** The chart rasterised to PNG bytes. */
export async function experimentPng(t: ExperimentTable): Promise<Buffer> {
  return sharp(Buffer.from(experimentSvg(t)))
    .png()
    .toBuffer();
}

/** Writes `<name>.json`, `.csv`, `.svg`, `.png` and `.html` into `dir` (created); returns the paths. */
export async function writeExperimentReports(dir: string, report: ExperimentReport): Promise<string[]> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const { name, result, shown, runs } = report;
  const files: [string, string | Buffer][] = [
    [`${name}.csv`, experimentCsv(result.table, runs)],
    [`${name}.svg`, experimentSvg(result.table)],
    [`${name}.png`, await experimentPng(result.table)],
    [`${name}.html`, experimentHtml(shown, runs)],
  ];
  const written = [...files.map(([n]) => join(out, n)), join(out, `${name}.json`)];
  for (const [n, body] of files) await writeFile(join(out, n), body);
  await writeFile(join(out, `${name}.json`), experimentJson(result, written));
  return written;
}
