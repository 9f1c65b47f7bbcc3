/**
 * @file The experiment chart's look from the page's theme: text, grid and surface colours from the CSS variables,
 * a series palette for light or dark surfaces, and the hatch pattern of each series (renderer).
 *
 * [Note: series without colour] Each series' bars carry the marks of the exported SVG (SERIES_HATCHES in
 * shared/experiment-report.ts) drawn in the surface colour over the series colour, so the bars and the legend's
 * swatches tell the series apart for a reader who cannot tell the colours apart, and the palette is chosen per theme
 * for at least 3:1 against the card's surface (WCAG 1.4.11).
 */
import { SERIES_HATCHES, type Hatch } from '../../../shared/experiment-report';

/** Series colours on a light surface (each >= 3:1 against white). */
const LIGHT = ['#2f5fd0', '#b35c00', '#1f7a4d', '#c53030', '#6b46c1', '#0e7490', '#7a6300', '#b83280'];
/** Series colours on a dark surface (each >= 3:1 against #1d2127). */
const DARK = ['#7b9cff', '#f0a050', '#5cc08a', '#ff7a7a', '#b794f4', '#4fd1e0', '#e0c040', '#f687b3'];

/** The colours the chart takes from the theme. */
export interface ChartTheme {
  dark: boolean;
  text: string;
  muted: string;
  grid: string;
  surface: string;
  series: readonly string[];
}

/** Relative luminance of a `#rrggbb` colour (0 black, 1 white); 1 for anything else. */
export function luminance(hex: string): number {
  const m = /^#([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m?.[1]) return 1;
  const n = parseInt(m[1], 16);
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
}

/** The theme's colours now (read again when the theme changes). */
export function chartTheme(root: HTMLElement = document.documentElement): ChartTheme {
  const css = getComputedStyle(root);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const surface = v('--surface', '#ffffff');
  const dark = luminance(surface) < 0.2;
  return {
    dark,
    text: v('--text', '#1b1f24'),
    muted: v('--muted', '#5f6b7a'),
    grid: v('--border', '#d9dde3'),
    surface,
    series: dark ? DARK : LIGHT,
  };
}

/** The hatch of series `i`. */
export function seriesHatch(i: number): Hatch {
  return SERIES_HATCHES[i % SERIES_HATCHES.length] ?? '';
}

/** Human words for a hatch (the legend's text for screen readers and the table's key). */
export const HATCH_WORDS: Record<Hatch, string> = {
  '': 'solid',
  slash: 'diagonal lines',
  dots: 'dots',
  horizontal: 'horizontal lines',
  cross: 'cross-hatched',
  vertical: 'vertical lines',
  backslash: 'reverse diagonal lines',
  grid: 'grid',
};

/** A fill of `colour` with the marks of `hatch` in `mark` (see [Note: series without colour]). */
export function hatchFill(colour: string, hatch: Hatch, mark: string): CanvasPattern | string {
  if (!hatch) return colour;
  const size = 8;
  const tile = document.createElement('canvas');
  tile.width = size;
  tile.height = size;
  const ctx = tile.getContext('2d');
  if (!ctx) return colour;
  ctx.fillStyle = colour;
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = mark;
  ctx.fillStyle = mark;
  ctx.lineWidth = 1.6;
  const line = (x0: number, y0: number, x1: number, y1: number) => {
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  };
  // Lines run off the tile's edges so neighbouring tiles join them up.
  const slash = () => [-size, 0, size].forEach((o) => line(o, size, o + size, 0));
  const backslash = () => [-size, 0, size].forEach((o) => line(o, 0, o + size, size));
  if (hatch === 'slash') slash();
  else if (hatch === 'backslash') backslash();
  else if (hatch === 'cross') {
    slash();
    backslash();
  } else if (hatch === 'horizontal') line(0, size / 2, size, size / 2);
  else if (hatch === 'vertical') line(size / 2, 0, size / 2, size);
  else if (hatch === 'grid') {
    line(0, size / 2, size, size / 2);
    line(size / 2, 0, size / 2, size);
  } else if (hatch === 'dots') {
    ctx.beginPath();
    ctx.arc(size / 2, size / 2, 1.5, 0, Math.PI * 2);
    ctx.fill();
  }
  return ctx.createPattern(tile, 'repeat') ?? colour;
}

/** Calls `listener` whenever the page's theme changes (the Settings choice or the OS); returns the unsubscribe. */
export function onThemeChange(listener: () => void): () => void {
  const observer = new MutationObserver(listener);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  const media = window.matchMedia?.('(prefers-color-scheme: dark)');
  media?.addEventListener?.('change', listener);
  return () => {
    observer.disconnect();
    media?.removeEventListener?.('change', listener);
  };
}
