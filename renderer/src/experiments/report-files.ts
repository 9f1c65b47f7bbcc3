/**
 * @file The files of an experiment's report, built in the page and handed to the user as downloads: the table and
 * runs (CSV), the whole result (JSON), the chart (SVG, PNG) and the self-contained HTML report (renderer).
 *
 * The text is the engine's (shared/experiment-report.ts, see [Note: one report, two writers]), built from the result
 * the page already holds and saved as in [Note: page-made downloads] (ui/save-file.ts). The PNG is the same SVG
 * rasterised by the page's canvas (the CLI's by sharp).
 */
import {
  experimentCsv,
  experimentHtml,
  experimentJson,
  experimentReport,
  experimentSvg,
  type ExperimentResult,
} from '../../../shared/experiment-report';
import type { FileSaver } from '../ui/save-file';

/** A format of the report. */
export type ReportFormat = 'csv' | 'json' | 'svg' | 'png' | 'html';

/** The formats in the order the screen offers them, with the button's words. */
export const REPORT_FORMATS: readonly { format: ReportFormat; label: string }[] = [
  { format: 'csv', label: 'table (CSV)' },
  { format: 'json', label: 'result (JSON)' },
  { format: 'svg', label: 'chart (SVG)' },
  { format: 'png', label: 'chart (PNG)' },
  { format: 'html', label: 'report (HTML)' },
];

const MIME: Record<ReportFormat, string> = {
  csv: 'text/csv;charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  html: 'text/html;charset=utf-8',
};

/** One report file: its name and bytes. */
export async function reportFile(
  result: ExperimentResult,
  format: ReportFormat,
  saver: Pick<FileSaver, 'png'>,
): Promise<{ name: string; blob: Blob }> {
  const report = experimentReport(result);
  const name = `${report.name}.${format}`;
  const text = (body: string) => new Blob([body], { type: MIME[format] });
  if (format === 'csv') return { name, blob: text(experimentCsv(result.table, report.runs)) };
  if (format === 'json') return { name, blob: text(experimentJson(result, result.files)) };
  if (format === 'svg') return { name, blob: text(experimentSvg(result.table)) };
  if (format === 'html') return { name, blob: text(experimentHtml(report.shown, report.runs)) };
  return { name, blob: await saver.png(experimentSvg(result.table)) };
}
