/**
 * @file The files of an experiment's report, built in the page and handed to the user as downloads: the table and
 * runs (CSV), the whole result (JSON), the chart (SVG, PNG) and the self-contained HTML report (renderer).
 *
 * [Note: report downloads] The text is the engine's (shared/experiment-report.ts, see [Note: one report, two
 * writers]), built from the result the page already holds, so nothing goes back to the engine and nothing waits on a
 * server route: in web mode the browser saves the file as any download; in the desktop app Chromium's download asks
 * where to save it. The PNG is the same SVG rasterised by the page's canvas (the CLI's by sharp).
 */
import {
  experimentCsv,
  experimentHtml,
  experimentJson,
  experimentReport,
  experimentSvg,
  type ExperimentResult,
} from '../../../shared/experiment-report';

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

/** Where the page's files go: the browser's download (tests record them instead). */
export interface FileSaver {
  save(name: string, blob: Blob): void;
  /** An SVG document rasterised to PNG. */
  png(svg: string): Promise<Blob>;
}

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

/** Saves a blob as a download named `name` (see [Note: report downloads]). */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference to the bytes once it started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** An SVG document drawn on a canvas of its own size, as PNG. */
export async function svgToPng(svg: string): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: MIME.svg }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('This page cannot draw a PNG (no 2D canvas).');
    ctx.drawImage(img, 0, 0);
    return await canvasPng(canvas);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** A canvas as PNG bytes. */
export function canvasPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The PNG could not be drawn.'))), 'image/png'),
  );
}

/** The browser's saver. */
export const browserSaver: FileSaver = { save: downloadBlob, png: svgToPng };
