/**
 * @file The studio's colours meet WCAG 2.2 AA in both themes (see [Note: theme contrast] in renderer/src/app.css):
 * every text colour on every surface it sits on at least 4.5:1, control borders, the focus ring and the chart series
 * at least 3:1; the dark theme chosen in Settings is the same as the system's dark theme (Node).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../electron/engine/settings/paths';
import { SERIES_COUNT, SERIES_DASHES, SERIES_MARKERS } from '../../renderer/src/ui/chart-theme';

const css = readFileSync(join(appRoot(), 'renderer', 'src', 'app.css'), 'utf8');

/** The custom properties declared in the first block that starts with `selector {`. */
function block(selector: string): Record<string, string> {
  const at = css.indexOf(`${selector} {`);
  if (at < 0) throw new Error(`no ${selector} block in app.css`);
  const body = css.slice(at + selector.length + 2, css.indexOf('}', at));
  return Object.fromEntries([...body.matchAll(/(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;/g)].map((m) => [m[1], m[2]]));
}

/** WCAG 2 relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two colours. */
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const light = block(':root');
const darkMedia = block("  :root:not([data-theme='light'])");
const dark = { ...light, ...block(":root[data-theme='dark']") };

/** [foreground, backgrounds, minimum ratio]. */
const PAIRS: [string, string[], number][] = [
  ['--text', ['--bg', '--surface', '--surface-raised', '--accent-soft'], 4.5],
  ['--muted', ['--bg', '--surface', '--surface-raised', '--accent-soft'], 4.5],
  ['--accent', ['--bg', '--surface', '--surface-raised'], 4.5],
  ['--danger', ['--bg', '--surface', '--surface-raised'], 4.5],
  ['--success', ['--bg', '--surface', '--surface-raised'], 4.5],
  ['--on-accent', ['--accent'], 4.5],
  ['--control-border', ['--bg', '--surface', '--surface-raised'], 3],
  ['--warn', ['--surface'], 3],
  ...Array.from({ length: SERIES_COUNT }, (_, i): [string, string[], number] => [
    `--series-${i + 1}`,
    ['--surface', '--surface-raised'],
    3,
  ]),
];

describe('theme contrast (WCAG 2.2 AA)', () => {
  for (const [name, theme] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    it(`meets every ratio in the ${name} theme`, () => {
      const low: string[] = [];
      for (const [fg, bgs, min] of PAIRS) {
        for (const bg of bgs) {
          const [a, b] = [theme[fg], theme[bg]];
          expect(a, `${fg} in the ${name} theme`).toMatch(/^#/);
          expect(b, `${bg} in the ${name} theme`).toMatch(/^#/);
          const r = contrast(a ?? '', b ?? '');
          if (r < min) low.push(`${fg} ${a} on ${bg} ${b}: ${r.toFixed(2)} < ${min}`);
        }
      }
      expect(low).toEqual([]);
    });
  }

  it('finds a failing pair (the check can fail): white on the old light accent is 4.38:1', () => {
    expect(contrast('#ffffff', '#3a6ff7')).toBeCloseTo(4.38, 2);
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });

  it("declares the system's dark theme and the chosen dark theme alike", () => {
    expect(Object.keys(darkMedia).length).toBeGreaterThan(10);
    expect(darkMedia).toEqual(block(":root[data-theme='dark']"));
  });

  it('gives each chart series its own marker and dash', () => {
    expect(new Set(SERIES_MARKERS).size).toBe(SERIES_COUNT);
    expect(new Set(SERIES_DASHES.map((d) => d.join(','))).size).toBe(SERIES_COUNT);
  });
});
