/**
 * @file Writing CSV cells and tables: one helper for every CSV the app writes (pure TypeScript, any runtime).
 *
 * [Note: CSV cells] Cells are quoted per RFC 4180 when they hold a comma, a quote or a line break. Text that
 * reaches a CSV from users' files (class names are folder names from shared datasets) could be read as a formula
 * by a spreadsheet, so a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single
 * quote in front (OWASP's rule for CSV injection): spreadsheets show it as text, and the name is still readable.
 * Numbers the app computed are written as they are (a negative learning rate stays a number).
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: numbers and booleans as they are, text neutralised and quoted (see [Note: CSV cells]). */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (without its line break). */
export function csvLine(cells: readonly unknown[]): string {
  return cells.map(csvCell).join(',');
}

/** A whole CSV table, one line per row, ending with a line break. */
export function csvTable(rows: readonly (readonly unknown[])[]): string {
  return rows.map(csvLine).join('\n') + '\n';
}
