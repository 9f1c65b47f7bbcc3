/**
 * @file The shareable outputs of an experiment: the table and the runs as CSV, the result as JSON, the chart with
 * error bars as SVG and PNG, and a short self-contained HTML report (engine worker, plain Node).
 *
 * [Note: experiment report] The HTML page carries everything inline (styles, the SVG chart, no script, a CSP that
 * allows no remote source), so it opens offline from a mail attachment or a shared folder: title, the table of
 * mean ± std, the chart, the settings, the split, the seeds, the command that reproduces the numbers, the
 * environment and every run. The chart is drawn from the experiment table only (see [Note: experiment table]).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { ExperimentCommon, ExperimentTable } from '../../../shared/contract/experiments';
import { csvLine } from '../../../shared/csv';

/** The per-run rows of an experiment as columns and values. */
export interface ReportRows {
  columns: string[];
  rows: (string | number | null)[][];
}

/** What the report needs of a result: the common part, its settings and optional notes. */
export type ReportedResult = ExperimentCommon & { settings: object; notes?: string[] };

const pct = (x: number) => (x * 100).toFixed(1);
const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const COLORS = ['#1f77b4', '#7f7f7f', '#2ca02c', '#ff7f0e', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

/** The table, then the runs, as CSV (cells by the app's one CSV writer, see [Note: CSV cells]). */
export function experimentCsv(table: ExperimentTable, runs: ReportRows): string {
  const lines = [csvLine(['group', 'series', 'mean', 'std', 'seeds', 'values'])];
  for (const c of table.cells)
    lines.push(csvLine([c.group, c.series, c.mean, c.std, c.values.length, c.values.join(' ')]));
  lines.push('', csvLine(runs.columns), ...runs.rows.map(csvLine));
  return lines.join('\n') + '\n';
}

/** The table as aligned text lines: groups down, series across, "mean ± std" in percent. */
export function formatExperimentTable(t: ExperimentTable): string[] {
  const w = Math.max(t.groupAxis.length, ...t.groups.map((g) => g.length)) + 2;
  const lines = [[t.groupAxis.padEnd(w), ...t.series.map((s) => s.padStart(16))].join(' ')];
  for (const g of t.groups) {
    const cells = t.series.map((s) => {
      const c = t.cells.find((x) => x.group === g && x.series === s);
      return (c ? `${pct(c.mean)} ± ${pct(c.std)}` : '-').padStart(16);
    });
    lines.push([g.padEnd(w), ...cells].join(' '));
  }
  return lines;
}

/** The table as a grouped bar chart: one group per setting, one bar per series, ±1 std error bars, 0-100 %. */
export function experimentSvg(t: ExperimentTable): string {
  const bar = Math.max(10, Math.min(36, Math.floor(480 / Math.max(1, t.groups.length * t.series.length))));
  const groupW = bar * t.series.length + 24;
  const m = { l: 64, r: 190, t: 44, b: 110 };
  const pw = Math.max(320, groupW * t.groups.length);
  const ph = 320;
  const W = m.l + pw + m.r;
  const H = m.t + ph + m.b;
  const y = (a: number) => m.t + (1 - Math.min(1, Math.max(0, a))) * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12" role="img" aria-label="${esc(t.title)}">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.l + pw / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${esc(t.title)}</text>`,
  ];
  for (let i = 0; i <= 10; i += 2)
    parts.push(
      `<line x1="${m.l}" y1="${y(i / 10)}" x2="${m.l + pw}" y2="${y(i / 10)}" stroke="#e5e5e5"/>`,
      `<text x="${m.l - 8}" y="${y(i / 10) + 4}" text-anchor="end">${i * 10}%</text>`,
    );
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(t.metric)} (mean ± std)</text>`,
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(t.groupAxis)}</text>`,
  );
  const slot = pw / Math.max(1, t.groups.length);
  t.groups.forEach((g, gi) => {
    const x0 = m.l + gi * slot + (slot - bar * t.series.length) / 2;
    t.series.forEach((s, si) => {
      const c = t.cells.find((x) => x.group === g && x.series === s);
      if (!c) return;
      const color = COLORS[si % COLORS.length] ?? '#000';
      const x = x0 + si * bar;
      const cx = (x + bar / 2).toFixed(1);
      parts.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${y(c.mean).toFixed(1)}" width="${bar - 2}" height="${(m.t + ph - y(c.mean)).toFixed(1)}" fill="${color}"><title>${esc(`${g}, ${s}: ${pct(c.mean)} ± ${pct(c.std)} %`)}</title></rect>`,
        `<line x1="${cx}" y1="${y(c.mean - c.std).toFixed(1)}" x2="${cx}" y2="${y(c.mean + c.std).toFixed(1)}" stroke="#222"/>`,
        `<line x1="${(x + bar / 2 - 4).toFixed(1)}" y1="${y(c.mean + c.std).toFixed(1)}" x2="${(x + bar / 2 + 4).toFixed(1)}" y2="${y(c.mean + c.std).toFixed(1)}" stroke="#222"/>`,
        `<line x1="${(x + bar / 2 - 4).toFixed(1)}" y1="${y(c.mean - c.std).toFixed(1)}" x2="${(x + bar / 2 + 4).toFixed(1)}" y2="${y(c.mean - c.std).toFixed(1)}" stroke="#222"/>`,
      );
    });
    const lx = m.l + gi * slot + slot / 2;
    parts.push(`<text transform="translate(${lx.toFixed(1)} ${m.t + ph + 14}) rotate(30)">${esc(g)}</text>`);
  });
  t.series.forEach((s, si) => {
    const ly = m.t + 12 + si * 20;
    parts.push(
      `<rect x="${m.l + pw + 16}" y="${ly - 10}" width="14" height="12" fill="${COLORS[si % COLORS.length] ?? '#000'}"/>`,
      `<text x="${m.l + pw + 36}" y="${ly}">${esc(s)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The chart rasterised to PNG bytes. */
export async function experimentPng(t: ExperimentTable): Promise<Buffer> {
  return sharp(Buffer.from(experimentSvg(t)))
    .png()
    .toBuffer();
}

function keyValueRows(obj: object): string {
  return Object.entries(obj)
    .map(([k, v]) => {
      const text = Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '-' : String(v);
      return `<tr><th scope="row">${esc(k)}</th><td>${esc(text)}</td></tr>`;
    })
    .join('\n');
}

/** The self-contained HTML page (see [Note: experiment report]). */
export function experimentHtml(r: ReportedResult, runs: ReportRows): string {
  const t = r.table;
  const head = `<tr><th scope="col">${esc(t.groupAxis)}</th>${t.series.map((s) => `<th scope="col">${esc(s)}</th>`).join('')}</tr>`;
  const body = t.groups
    .map((g) => {
      const cells = t.series.map((s) => {
        const c = t.cells.find((x) => x.group === g && x.series === s);
        return `<td>${c ? `${pct(c.mean)} ± ${pct(c.std)}` : '-'}</td>`;
      });
      return `<tr><th scope="row">${esc(g)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  const split = r.split.perSeed
    .map((s) => `<tr><td>${s.seed}</td><td>${s.train}</td><td>${s.val}</td><td>${s.test}</td></tr>`)
    .join('\n');
  const runRows = runs.rows
    .map((row) => `<tr>${row.map((v) => `<td>${esc(v === null ? '-' : String(v))}</td>`).join('')}</tr>`)
    .join('\n');
  const models = r.models.map((m) => `${m.id} (${m.dir})`).join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(t.title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td { font-variant-numeric: tabular-nums; }
pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }
figure { margin: 1em 0; overflow-x: auto; }
.note { color: #555; }
</style>
</head>
<body>
<h1>${esc(t.title)}</h1>
<p>${esc(t.metric)} in percent, mean ± sample standard deviation over seeds ${esc(r.seeds.join(', '))}, on ${esc(r.data.root)} (${r.data.classes.length} classes) with ${esc(models)}.</p>
${(r.notes ?? []).map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<h2>Result</h2>
<table>
${head}
${body}
</table>
<figure>
${experimentSvg(t)}
</figure>
<h2>Settings</h2>
<table>
${keyValueRows(r.settings)}
</table>
<h2>Split</h2>
<p>${esc(r.split.rule)}</p>
<table>
<tr><th scope="col">seed</th><th scope="col">train</th><th scope="col">validation</th><th scope="col">test</th></tr>
${split}
</table>
<p>Classes: ${esc(r.data.classes.join(', '))}</p>
<h2>Reproduce</h2>
<pre>${esc(r.command)}</pre>
<h2>Environment</h2>
<table>
${keyValueRows(r.environment)}
</table>
<h2>Runs</h2>
<table>
<tr>${runs.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr>
${runRows}
</table>
${r.warnings.length ? `<h2>Warnings</h2>\n<ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</body>
</html>
`;
}

/** Writes `<name>.json`, `.csv`, `.svg`, `.png` and `.html` into `dir` (created); returns the paths. */
export async function writeExperimentReports(
  dir: string,
  name: string,
  result: ReportedResult,
  runs: ReportRows,
): Promise<string[]> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const files: [string, string | Buffer][] = [
    [`${name}.csv`, experimentCsv(result.table, runs)],
    [`${name}.svg`, experimentSvg(result.table)],
    [`${name}.png`, await experimentPng(result.table)],
    [`${name}.html`, experimentHtml(result, runs)],
  ];
  const written = [...files.map(([n]) => join(out, n)), join(out, `${name}.json`)];
  for (const [n, body] of files) await writeFile(join(out, n), body);
  await writeFile(join(out, `${name}.json`), JSON.stringify({ ...result, files: written }, null, 2));
  return written;
}
