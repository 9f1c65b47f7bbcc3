/**
 * @file The pieces every hand-written SVG chart of the engine shares: the document head and the title, its text escaped
 * by shared/markup.ts (engine, plain Node; see [Note: curve chart]).
 */
import { escapeXml } from '../../../shared/markup';

/** The opening `<svg>` of a `w` x `h` chart and its white background (two lines). */
export function svgHead(w: number, h: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">\n` +
    `<rect width="${w}" height="${h}" fill="#ffffff"/>`
  );
}

/** A chart's bold title centred on `x`. */
export function svgTitle(x: number, title: string): string {
  return `<text x="${x}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`;
}
