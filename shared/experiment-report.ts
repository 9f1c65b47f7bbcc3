/**
 * @file The shareable outputs of an experiment as text: the table and the runs as CSV, the result as JSON, the chart
 * with error bars as SVG, and a short self-contained HTML report (pure TypeScript, any runtime).
 *
 * [Note: experiment report] The HTML page carries everything inline (styles, the SVG chart, no script, a CSP that
 * allows no remote source), so it opens offline from a mail attachment or a shared folder: title, the table of
 * mean ± std, the chart, the settings, the split, the seeds, the command that reproduces the numbers, the
 * environment and every run. The chart is drawn from the experiment table only (see [Note: experiment table]).
 *
 * [Note: one report, two writers] The engine writes these files with `--out` / `out` (and rasterises the SVG to PNG
 * with sharp, electron/engine/reports/experiment-report.ts); the studio builds the same files from the result it got
 * and hands them to the user as downloads (renderer/src/experiments/report-files.ts). Both call `experimentReport`,
 * so a report saved from the studio is the one the CLI writes.
 */
import type {
  BaseToNewResult,
  DomainShiftResult,
  ExperimentCommon,
  ExperimentTable,
  SweepResult,
} from './contract/experiments';
import { csvLine } from './csv';
import { escapeXml } from './markup';

/** The per-run rows of an experiment as columns and values. */
export interface ReportRows {
  columns: string[];
  rows: (string | number | null)[][];
}

/** What the report needs of a result: the common part and the settings it shows. */
export type ReportedResult = ExperimentCommon & { settings: object };

/** Any experiment's result. */
export type ExperimentResult = SweepResult | BaseToNewResult | DomainShiftResult;

/** One experiment's report: its file stem, the result as the HTML page shows it, and its runs. */
export interface ExperimentReport {
  /** File stem, e.g. `sweep-context-length`, `base-to-new`, `domain-shift`. */
  name: string;
  /** The result whole (the JSON file). */
  result: ExperimentResult;
  /** The result with the settings the page shows (a sweep shows its own kind's swept values only). */
  shown: ReportedResult;
  runs: ReportRows;
}

const pct = (x: number) => (x * 100).toFixed(1);
const COLORS = ['#1f77b4', '#7f7f7f', '#2ca02c', '#ff7f0e', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

/** The report of a result (see [Note: one report, two writers]). */
export function experimentReport(r: ExperimentResult): ExperimentReport {
  if ('kind' in r)
    return { name: `sweep-${r.kind}`, result: r, shown: { ...r, settings: sweepSettings(r) }, runs: sweepRows(r) };
  if ('classSplit' in r)
    return {
      name: 'base-to-new',
      result: r,
      shown: r,
      runs: {
        columns: ['method', 'seed', 'base_accuracy', 'new_accuracy', 'harmonic_mean', 'seconds'],
        rows: r.rows.map((x) => [x.method, x.seed, x.base, x.new, x.harmonic, Number(x.seconds.toFixed(3))]),
      },
    };
  return {
    name: 'domain-shift',
    result: r,
    shown: r,
    runs: {
      columns: ['method', 'seed', 'domain', 'accuracy'],
      rows: r.rows.map((x) => [x.method, x.seed, x.domain, x.accuracy]),
    },
  };
}

/** The settings a sweep's page shows: the swept values of its kind only (the JSON keeps them all). */
function sweepSettings(r: SweepResult): Partial<SweepResult['settings']> {
  const { contextLengths, initWords, noiseRates, ...rest } = r.settings;
  return {
    ...rest,
    ...(r.kind === 'context-length' ? { contextLengths } : {}),
    ...(r.kind === 'init' ? { initWords } : {}),
    ...(r.kind === 'label-noise' ? { noiseRates } : {}),
  };
}

/** The runs of a sweep. */
function sweepRows(r: SweepResult): ReportRows {
  return {
    columns: [
      'cell',
      'setting',
      'method',
      'model',
      'seed',
      'test_accuracy',
      'val_accuracy',
      'final_train_loss',
      'flipped_labels',
      'seconds',
    ],
    rows: r.rows.map((row) => {
      const cell = r.cells.find((c) => c.key === row.cell);
      return [
        row.cell,
        cell?.setting ?? '',
        cell?.method ?? '',
        row.model,
        row.seed,
        row.testAccuracy,
        row.valAccuracy,
        row.finalTrainLoss,
        row.flippedLabels,
        Number(row.seconds.toFixed(3)),
      ];
    }),
  };
}

/** The table, then the runs, as CSV (cells by the app's one CSV writer, see [Note: CSV cells]). */
export function experimentCsv(table: ExperimentTable, runs: ReportRows): string {
  const lines = [csvLine(['group', 'series', 'mean', 'std', 'seeds', 'values'])];
  for (const c of table.cells)
    lines.push(csvLine([c.group, c.series, c.mean, c.std, c.values.length, c.values.join(' ')]));
  lines.push('', csvLine(runs.columns), ...runs.rows.map(csvLine));
  return lines.join('\n') + '\n';
}

/** The whole result as the JSON file, with the report files written next to it. */
export function experimentJson(result: ExperimentResult, files: string[]): string {
  return JSON.stringify({ ...result, files }, null, 2);
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

/**
 * Marks drawn over each series' bars, in series order, so series differ without colour (see {@link hatchMarks}); the
 * studio's chart draws the same ones.
 */
export const SERIES_HATCHES = ['', 'slash', 'dots', 'horizontal', 'cross', 'vertical', 'backslash', 'grid'] as const;
/** One series' marks ('' = a plain bar). */
export type Hatch = (typeof SERIES_HATCHES)[number];

/**
 * White marks over a bar (or a legend swatch) at x, y, w, h: solid for the first series, then hatchings and dots, so
 * a reader who cannot tell the colours apart, or a greyscale print, still tells the bars apart by the legend's
 * swatches. Drawn as plain paths clipped to the rectangle by hand (no `<pattern>`: the page references nothing).
 */
export function hatchMarks(hatch: Hatch, x: number, y: number, w: number, h: number): string {
  const step = 6;
  const f = (n: number) => n.toFixed(1);
  const [x1, y1] = [x + w, y + h];
  const d: string[] = [];
  const slash = () => {
    // Lines px + py = k, from the rectangle's top-left corner to its bottom-right one.
    for (let k = x + y + step / 2; k < x1 + y1; k += step) {
      const a = Math.max(x, k - y1);
      const b = Math.min(x1, k - y);
      if (b > a) d.push(`M${f(a)} ${f(k - a)}L${f(b)} ${f(k - b)}`);
    }
  };
  const backslash = () => {
    // Lines px - py = k.
    for (let k = x - y1 + step / 2; k < x1 - y; k += step) {
      const a = Math.max(x, k + y);
      const b = Math.min(x1, k + y1);
      if (b > a) d.push(`M${f(a)} ${f(a - k)}L${f(b)} ${f(b - k)}`);
    }
  };
  const rows = () => {
    for (let py = y + step / 2; py < y1; py += step) d.push(`M${f(x)} ${f(py)}H${f(x1)}`);
  };
  const cols = () => {
    for (let px = x + step / 2; px < x1; px += step) d.push(`M${f(px)} ${f(y)}V${f(y1)}`);
  };
  if (hatch === 'slash') slash();
  else if (hatch === 'backslash') backslash();
  else if (hatch === 'cross') {
    slash();
    backslash();
  } else if (hatch === 'horizontal') rows();
  else if (hatch === 'vertical') cols();
  else if (hatch === 'grid') {
    rows();
    cols();
  } else if (hatch === 'dots') {
    const dots: string[] = [];
    for (let py = y + step / 2; py < y1; py += step)
      for (let px = x + step / 2; px < x1; px += step)
        dots.push(`<circle cx="${f(px)}" cy="${f(py)}" r="1.4" fill="#fff"/>`);
    return dots.join('');
  }
  return d.length ? `<path d="${d.join('')}" stroke="#fff" stroke-width="1.5" fill="none"/>` : '';
}

/** One series' bar: its colour, and its marks over it. */
function seriesBar(si: number, x: number, y: number, w: number, h: number, title = ''): string {
  const color = COLORS[si % COLORS.length] ?? '#000';
  const hatch = SERIES_HATCHES[si % SERIES_HATCHES.length] ?? '';
  return (
    `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}" stroke="#333" stroke-width="0.5">${title}</rect>` +
    hatchMarks(hatch, x, y, w, h)
  );
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
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12" role="img" aria-label="${escapeXml(t.title)}">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.l + pw / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(t.title)}</text>`,
  ];
  for (let i = 0; i <= 10; i += 2)
    parts.push(
      `<line x1="${m.l}" y1="${y(i / 10)}" x2="${m.l + pw}" y2="${y(i / 10)}" stroke="#e5e5e5"/>`,
      `<text x="${m.l - 8}" y="${y(i / 10) + 4}" text-anchor="end">${i * 10}%</text>`,
    );
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(t.metric)} (mean ± std)</text>`,
    `<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(t.groupAxis)}</text>`,
  );
  const slot = pw / Math.max(1, t.groups.length);
  t.groups.forEach((g, gi) => {
    const x0 = m.l + gi * slot + (slot - bar * t.series.length) / 2;
    t.series.forEach((s, si) => {
      const c = t.cells.find((x) => x.group === g && x.series === s);
      if (!c) return;
      const x = x0 + si * bar;
      const cx = (x + bar / 2).toFixed(1);
      parts.push(
        seriesBar(
          si,
          x + 1,
          y(c.mean),
          bar - 2,
          m.t + ph - y(c.mean),
          `<title>${escapeXml(`${g}, ${s}: ${pct(c.mean)} ± ${pct(c.std)} %`)}</title>`,
        ),
        `<line x1="${cx}" y1="${y(c.mean - c.std).toFixed(1)}" x2="${cx}" y2="${y(c.mean + c.std).toFixed(1)}" stroke="#222"/>`,
        `<line x1="${(x + bar / 2 - 4).toFixed(1)}" y1="${y(c.mean + c.std).toFixed(1)}" x2="${(x + bar / 2 + 4).toFixed(1)}" y2="${y(c.mean + c.std).toFixed(1)}" stroke="#222"/>`,
        `<line x1="${(x + bar / 2 - 4).toFixed(1)}" y1="${y(c.mean - c.std).toFixed(1)}" x2="${(x + bar / 2 + 4).toFixed(1)}" y2="${y(c.mean - c.std).toFixed(1)}" stroke="#222"/>`,
      );
    });
    const lx = m.l + gi * slot + slot / 2;
    parts.push(`<text transform="translate(${lx.toFixed(1)} ${m.t + ph + 14}) rotate(30)">${escapeXml(g)}</text>`);
  });
  t.series.forEach((s, si) => {
    const ly = m.t + 12 + si * 20;
    parts.push(
      seriesBar(si, m.l + pw + 16, ly - 12, 16, 14),
      `<text x="${m.l + pw + 36}" y="${ly}">${escapeXml(s)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function keyValueRows(obj: object): string {
  return Object.entries(obj)
    .map(([k, v]) => {
      const text = Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '-' : String(v);
      return `<tr><th scope="row">${escapeXml(k)}</th><td>${escapeXml(text)}</td></tr>`;
    })
    .join('\n');
}

/** The self-contained HTML page (see [Note: experiment report]). */
export function experimentHtml(r: ReportedResult, runs: ReportRows): string {
  const t = r.table;
  const head = `<tr><th scope="col">${escapeXml(t.groupAxis)}</th>${t.series.map((s) => `<th scope="col">${escapeXml(s)}</th>`).join('')}</tr>`;
  const body = t.groups
    .map((g) => {
      const cells = t.series.map((s) => {
        const c = t.cells.find((x) => x.group === g && x.series === s);
        return `<td>${c ? `${pct(c.mean)} ± ${pct(c.std)}` : '-'}</td>`;
      });
      return `<tr><th scope="row">${escapeXml(g)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  const split = r.split.perSeed
    .map((s) => `<tr><td>${s.seed}</td><td>${s.train}</td><td>${s.val}</td><td>${s.test}</td></tr>`)
    .join('\n');
  const runRows = runs.rows
    .map((row) => `<tr>${row.map((v) => `<td>${escapeXml(v === null ? '-' : String(v))}</td>`).join('')}</tr>`)
    .join('\n');
  const models = r.models.map((m) => `${m.id} (${m.dir})`).join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeXml(t.title)}</title>
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
<h1>${escapeXml(t.title)}</h1>
<p>${escapeXml(t.metric)} in percent, mean ± sample standard deviation over seeds ${escapeXml(r.seeds.join(', '))}, on ${escapeXml(r.data.root)} (${r.data.classes.length} classes) with ${escapeXml(models)}.</p>
${r.notes.map((n) => `<p class="note">${escapeXml(n)}</p>`).join('\n')}
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
<p>${escapeXml(r.split.rule)}</p>
<table>
<tr><th scope="col">seed</th><th scope="col">train</th><th scope="col">validation</th><th scope="col">test</th></tr>
${split}
</table>
<p>Classes: ${escapeXml(r.data.classes.join(', '))}</p>
<h2>Reproduce</h2>
<pre>${escapeXml(r.command)}</pre>
<h2>Environment</h2>
<table>
${keyValueRows(r.environment)}
</table>
<h2>Runs</h2>
<table>
<tr>${runs.columns.map((c) => `<th scope="col">${escapeXml(c)}</th>`).join('')}</tr>
${runRows}
</table>
${r.warnings.length ? `<h2>Warnings</h2>\n<ul>${r.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>` : ''}
</body>
</html>
`;
}
