/**
 * @file Text escaped for SVG and HTML: one rule for every chart and report the engine writes and the studio shows
 * (pure TypeScript).
 */

/** Text escaped for an SVG or HTML text node or a quoted attribute value (both quote characters too). */
export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
