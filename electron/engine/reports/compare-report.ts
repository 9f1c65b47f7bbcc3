/**
 * @file The outputs of `compare`: the method x shots table as text and CSV, and the accuracy-vs-shots chart with
 * error bars as SVG and PNG (engine and CLI, plain Node).
 *
 * [Note: compare chart] The classic few-shot figure: one line per method, shots on a log2 axis, mean test accuracy
 * over seeds with +-1 standard deviation error bars. Hand-written SVG rasterised by sharp, as the learning curve
 * (see [Note: curve chart]).
 */
import sharp from 'sharp';
import { METHOD_LABELS, type CompareResult } from '../../../shared/contract/methods';
import { csvLine } from '../../../shared/csv';
import { escapeXml } from '../../../shared/markup';
import { svgHead, svgTitle } from './svg';

const pct = (x: number) => (x * 100).toFixed(1);
const COLORS = [
  '#7f7f7f',
  '#8c564b',
  '#e377c2',
  '#1f77b4',
  '#ff7f0e',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#17becf',
  '#bcbd22',
];

/** The shot counts the table holds, ascending (fewer than asked for when a small dataset stepped them down). */
function tableShots(r: Pick<CompareResult, 'table'>): number[] {
  return [...new Set(r.table.map((c) => c.shots))].sort((a, b) => a - b);
}

/** The table as aligned text lines: methods down, shots across, "mean ± std" test accuracy in percent. */

export function formatCompareTable(r: Pick<CompareResult, 'table' | 'settings'>): string[] {
  const shots = tableShots(r);
  const head = ['method'.padEnd(16), ...shots.map((k) => `${k} shot${k > 1 ? 's' : ''}`.padStart(14))].join(' ');
  const lines = [head];
  for (const m of r.settings.methods) {
    const cells = shots.map((k) => {
      const c = r.table.find((x) => x.method === m && x.shots === k);
      return (c ? `${pct(c.mean)} ± ${pct(c.std)}` : '-').padStart(14);
    });
    lines.push([METHOD_LABELS[m].padEnd(16), ...cells].join(' '));
  }
  return lines;
}

/** Raw rows as CSV (one line per method, shots, seed), then the table (cells per [Note: CSV cells]). */
export function compareCsv(r: Pick<CompareResult, 'rows' | 'table' | 'data'>): string {
  const lines = [
    csvLine([
      'method',
      'shots',
      'seed',
      'val_accuracy',
      'test_accuracy',
      'seconds',
      'chosen',
      ...r.data.classes.map((c) => `test_${c}`),
    ]),
  ];
  for (const row of r.rows)
    lines.push(
      csvLine([
        row.method,
        row.shots,
        row.seed,
        row.valAccuracy,
        row.testAccuracy,
        row.seconds.toFixed(3),
        Object.entries(row.chosen)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        ...row.perClass,
      ]),
    );
  lines.push('', csvLine(['method', 'shots', 'mean_test_accuracy', 'std_test_accuracy', 'seeds']));
  for (const c of r.table) lines.push(csvLine([c.method, c.shots, c.mean, c.std, c.seeds]));
  return lines.join('\n') + '\n';
}

/** The accuracy-vs-shots chart (see [Note: compare chart]). */
export function compareSvg(r: Pick<CompareResult, 'table' | 'settings'>, title: string): string {
  const W = 800;
  const H = 500;
  const m = { l: 60, r: 170, t: 40, b: 60 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const shots = tableShots(r);
  const lo = Math.log2(Math.min(...shots, 1));
  const hi = Math.log2(Math.max(...shots, 2));
  const x = (k: number) => m.l + ((Math.log2(k) - lo) / Math.max(1e-9, hi - lo)) * pw;
  const vals = r.table.flatMap((c) => [c.mean - c.std, c.mean + c.std]);
  const yMin = Math.max(0, Math.floor(Math.min(...vals, 1) * 10) / 10);
  const yMax = Math.min(1, Math.ceil(Math.max(...vals, 0) * 10) / 10);
  const span = Math.max(0.1, yMax - yMin);
  const y = (a: number) => m.t + (1 - (Math.min(1, Math.max(0, a)) - yMin) / span) * ph;
  const parts = [
    svgHead(W, H),
    svgTitle(m.l + pw / 2, title),
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
  ];
  // Grid lines every 5 or 10 points, so the labels are round numbers.
  const tick = span > 0.5 ? 0.1 : 0.05;
  for (let a = Math.ceil(yMin / tick - 1e-9) * tick; a <= yMin + span + 1e-9; a += tick) {
    parts.push(
      `<line x1="${m.l}" y1="${y(a)}" x2="${m.l + pw}" y2="${y(a)}" stroke="#eee"/>`,
      `<text x="${m.l - 8}" y="${y(a) + 4}" text-anchor="end">${Math.round(a * 100)}%</text>`,
    );
  }
  for (const k of shots) parts.push(`<text x="${x(k)}" y="${m.t + ph + 18}" text-anchor="middle">${k}</text>`);
  parts.push(
    `<text x="${m.l + pw / 2}" y="${m.t + ph + 40}" text-anchor="middle">training images per class (shots)</text>`,
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">test accuracy (mean ± std over seeds)</text>`,
  );
  r.settings.methods.forEach((method, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const cells = shots.flatMap((k) => r.table.filter((c) => c.method === method && c.shots === k));
    if (cells.length === 0) return;
    const d = cells.map((c, j) => `${j === 0 ? 'M' : 'L'}${x(c.shots).toFixed(1)},${y(c.mean).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const c of cells) {
      const cx = x(c.shots).toFixed(1);
      parts.push(
        `<line x1="${cx}" y1="${y(c.mean - c.std).toFixed(1)}" x2="${cx}" y2="${y(c.mean + c.std).toFixed(1)}" stroke="${color}"/>`,
        `<circle cx="${cx}" cy="${y(c.mean).toFixed(1)}" r="3.5" fill="${color}"/>`,
      );
    }
    const ly = m.t + 12 + i * 20;
    parts.push(
      `<line x1="${m.l + pw + 14}" y1="${ly - 4}" x2="${m.l + pw + 38}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${m.l + pw + 44}" y="${ly}">${escapeXml(METHOD_LABELS[method])}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The chart rasterised to PNG bytes. */
export async function comparePng(r: Pick<CompareResult, 'table' | 'settings'>, title: string): Promise<Buffer> {
  return sharp(Buffer.from(compareSvg(r, title)))
    .png()
    .toBuffer();
}
