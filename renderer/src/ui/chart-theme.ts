/**
 * @file The charts' colours and series styles, read from the theme (app.css) so they follow light and dark, and each
 * series told apart by a marker and a dash as well as a colour (renderer).
 *
 * [Note: chart colours] Chart.js draws on a canvas with its own default greys, which neither follow the theme nor
 * reach AA on the dark surface, and axe cannot see inside a canvas. So the charts take every colour from the CSS
 * variables of the current theme (`--text`, `--muted`, `--border`, `--series-1..9`; [Note: theme contrast] in
 * app.css, checked by tests/unit/theme-contrast.test.ts) and redraw when the theme changes. Series are also told
 * apart without colour (WCAG 1.4.1): series i has marker `SERIES_MARKERS[i]` and dash `SERIES_DASHES[i]`.
 */

/**
 * How many series styles there are before they repeat: one per method of the compare registry (a component test
 * checks that it covers every method of shared/contract/methods.ts).
 */
export const SERIES_COUNT = 10;

/** Chart.js point styles, one per series (the compare chart draws the same shapes in SVG). */
export const SERIES_MARKERS = [
  'circle',
  'rect',
  'triangle',
  'rectRot',
  'star',
  'crossRot',
  'rectRounded',
  'cross',
  'line',
  'dash',
] as const;
/** A series marker. */
export type SeriesMarker = (typeof SERIES_MARKERS)[number];

/** Line dash patterns (px on, px off), one per series: the first is solid. */
export const SERIES_DASHES: readonly (readonly number[])[] = [
  [],
  [8, 4],
  [2, 3],
  [10, 3, 2, 3],
  [4, 4],
  [12, 4, 4, 4],
  [1, 4],
  [6, 2, 2, 2, 2, 2],
  [14, 6],
  [3, 2, 8, 2],
];

/** The colours a chart needs, from the current theme. */
export interface ChartColours {
  /** Legend and title text. */
  text: string;
  /** Axis ticks and axis titles. */
  muted: string;
  /** Grid lines. */
  grid: string;
  /** The card the chart sits on. */
  surface: string;
  /** One colour per series (`--series-1` ...). */
  series: string[];
}

/** Fallbacks when a variable is missing (the light theme's values). */
const FALLBACK = {
  text: '#1b1f24',
  muted: '#5f6b7a',
  grid: '#d9dde3',
  surface: '#ffffff',
  series: [
    '#2f62e8',
    '#b35c00',
    '#1f7a50',
    '#c53030',
    '#7b3fc4',
    '#0f7c8c',
    '#8a6d00',
    '#b8327a',
    '#5f6b7a',
    '#7a4b2a',
  ],
};

/** The chart colours of the theme in force on `root` (see [Note: chart colours]). */
export function chartColours(root: Element = document.documentElement): ChartColours {
  const css = getComputedStyle(root);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--text', FALLBACK.text),
    muted: v('--muted', FALLBACK.muted),
    grid: v('--border', FALLBACK.grid),
    surface: v('--surface', FALLBACK.surface),
    series: FALLBACK.series.map((f, i) => v(`--series-${i + 1}`, f)),
  };
}

/** Colour, marker and dash of series `i` (they repeat after {@link SERIES_COUNT}). */
export function seriesStyle(
  colours: ChartColours,
  i: number,
): { colour: string; marker: SeriesMarker; dash: number[] } {
  const k = ((i % SERIES_COUNT) + SERIES_COUNT) % SERIES_COUNT;
  return {
    colour: colours.series[k] ?? FALLBACK.series[k] ?? FALLBACK.text,
    marker: SERIES_MARKERS[k] ?? 'circle',
    dash: [...(SERIES_DASHES[k] ?? [])],
  };
}

/** An SVG path of `marker` centred on (x, y) with radius r (the compare chart's markers, as Chart.js draws them). */
export function markerPath(marker: SeriesMarker, x: number, y: number, r: number): string {
  const f = (n: number) => n.toFixed(1);
  const poly = (pts: [number, number][]) => `M${pts.map(([a, b]) => `${f(a)},${f(b)}`).join(' L')} Z`;
  switch (marker) {
    case 'circle':
      return `M${f(x - r)},${f(y)} a${r},${r} 0 1,0 ${f(2 * r)},0 a${r},${r} 0 1,0 ${f(-2 * r)},0 Z`;
    case 'rectRounded': {
      // Drawn hollow (see markerIsStroke) with round corners, so it never reads as 'rect'.
      const [s, c] = [r * 0.9, r * 0.45];
      const [l, t, rt, b] = [x - s, y - s, x + s, y + s];
      return (
        `M${f(l + c)},${f(t)} L${f(rt - c)},${f(t)} Q${f(rt)},${f(t)} ${f(rt)},${f(t + c)} L${f(rt)},${f(b - c)} ` +
        `Q${f(rt)},${f(b)} ${f(rt - c)},${f(b)} L${f(l + c)},${f(b)} Q${f(l)},${f(b)} ${f(l)},${f(b - c)} ` +
        `L${f(l)},${f(t + c)} Q${f(l)},${f(t)} ${f(l + c)},${f(t)} Z`
      );
    }
    case 'rect':
      return poly([
        [x - r * 0.85, y - r * 0.85],
        [x + r * 0.85, y - r * 0.85],
        [x + r * 0.85, y + r * 0.85],
        [x - r * 0.85, y + r * 0.85],
      ]);
    case 'triangle':
      return poly([
        [x, y - r * 1.1],
        [x + r, y + r * 0.75],
        [x - r, y + r * 0.75],
      ]);
    case 'rectRot':
      return poly([
        [x, y - r * 1.2],
        [x + r * 1.2, y],
        [x, y + r * 1.2],
        [x - r * 1.2, y],
      ]);
    case 'star': {
      const pts: [number, number][] = [];
      for (let k = 0; k < 10; k++) {
        const a = (Math.PI / 5) * k - Math.PI / 2;
        const rr = k % 2 === 0 ? r * 1.25 : r * 0.55;
        pts.push([x + rr * Math.cos(a), y + rr * Math.sin(a)]);
      }
      return poly(pts);
    }
    case 'crossRot':
      return `M${f(x - r)},${f(y - r)} L${f(x + r)},${f(y + r)} M${f(x + r)},${f(y - r)} L${f(x - r)},${f(y + r)}`;
    case 'cross':
      return `M${f(x - r * 1.2)},${f(y)} L${f(x + r * 1.2)},${f(y)} M${f(x)},${f(y - r * 1.2)} L${f(x)},${f(y + r * 1.2)}`;
    case 'line':
      return `M${f(x - r * 1.3)},${f(y)} L${f(x + r * 1.3)},${f(y)}`;
    case 'dash':
      // A short bar with end ticks, so it reads apart from 'line' at any size.
      return `M${f(x - r * 0.7)},${f(y)} L${f(x + r * 0.7)},${f(y)} M${f(x - r * 0.7)},${f(y - r * 0.6)} L${f(x - r * 0.7)},${f(y + r * 0.6)} M${f(x + r * 0.7)},${f(y - r * 0.6)} L${f(x + r * 0.7)},${f(y + r * 0.6)}`;
  }
}

/** Whether a marker is drawn as lines only (stroked, not filled): the crosses and bars, and the hollow rounded square. */
export function markerIsStroke(marker: SeriesMarker): boolean {
  return (
    marker === 'crossRot' || marker === 'cross' || marker === 'line' || marker === 'dash' || marker === 'rectRounded'
  );
}

/** Calls `listener` whenever the theme changes (the Settings choice or the system's); returns the unsubscribe. */
export function onThemeChange(listener: () => void): () => void {
  const observer = new MutationObserver(listener);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  media?.addEventListener('change', listener);
  return () => {
    observer.disconnect();
    media?.removeEventListener('change', listener);
  };
}
