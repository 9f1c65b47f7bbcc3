/**
 * @file The colour scale of the similarity map: blue (low) through yellow to red (high) (pure TypeScript, any runtime).
 *
 * One scale for the overlays the engine draws (electron/engine/reports/similarity-overlay.ts) and the legend the
 * studio shows next to them, so the legend's colours are the overlays' own.
 */

/** The scale's colour stops, low to high (RdYlBu reversed). */
export const HEAT_STOPS: readonly (readonly [number, number, number])[] = [
  [49, 54, 149],
  [69, 117, 180],
  [171, 217, 233],
  [255, 255, 191],
  [253, 174, 97],
  [215, 48, 39],
];

/** The colour of t in [0, 1] on the blue-yellow-red scale (out-of-range and non-finite values clamp). */
export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = HEAT_STOPS[i] ?? [0, 0, 0];
  const b = HEAT_STOPS[i + 1] ?? [0, 0, 0];
  return [0, 1, 2].map((k) => Math.round((a[k] ?? 0) + ((b[k] ?? 0) - (a[k] ?? 0)) * f)) as [number, number, number];
}
