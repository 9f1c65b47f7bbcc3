/**
 * @file The accessibility checker of the E2E suite: injects axe-core (the npm package) into a page, runs it on the
 * whole document against WCAG 2.0-2.2 A/AA, and collects the violations per screen, theme and window size, so that a
 * sweep can write the counts down and fail on any serious or critical one (Node test runner driving Chromium).
 *
 * [Note: axe sweep] axe checks what is in the DOM at that moment: every screen and every dialog is visited, and each
 * is checked in light and dark at 1280x800 and 1024x640, because contrast depends on the theme and overflow on the
 * size. The page is switched between themes with `emulateMedia({ colorScheme })` (the studio follows the system
 * theme by default). axe cannot read pixels drawn on a canvas (Chart.js): those colours are checked by
 * `renderer/src/ui/chart-theme.test.ts` against the WCAG ratios instead.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** What the sweep counts: axe's impact levels. */
export const IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;
/** An axe impact level. */
export type Impact = (typeof IMPACTS)[number];

/** The rule sets axe runs: WCAG A and AA of 2.0, 2.1 and 2.2, and axe's best practices (landmarks, headings). */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** One rule that failed, with the elements it failed on. */
export interface Violation {
  id: string;
  impact: Impact;
  help: string;
  targets: string[];
}

/** axe's browser bundle, read once. */
let source: string | undefined;
function axeSource(): string {
  source ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  return source;
}

/** Runs axe on the page (injecting it first when needed) and returns the WCAG A/AA violations. */
export async function checkPage(page: Page): Promise<Violation[]> {
  const has = await page.evaluate(() => 'axe' in window);
  // Evaluated through the DevTools protocol: the studio's Content-Security-Policy (rightly) refuses inline scripts.
  if (!has) await page.evaluate(axeSource());
  return page.evaluate(async (tags) => {
    type AxeResult = {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<AxeResult> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: (v.impact ?? 'minor') as Impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.map(String).join(' ')),
    }));
  }, WCAG_TAGS);
}

/** Counts of violated nodes per impact. */
export type Counts = Record<Impact, number>;

/** One checked state: the screen or dialog, the theme and the window size. */
export interface Checked {
  screen: string;
  theme: 'light' | 'dark';
  size: string;
  violations: Violation[];
  /** How many CSS pixels the page is wider than the window (0 when it fits). */
  overflowPx: number;
}

/** Counts a state's violations by impact (one per failing element). */
export function countOf(violations: Violation[]): Counts {
  const c: Counts = { minor: 0, moderate: 0, serious: 0, critical: 0 };
  for (const v of violations) c[v.impact] += v.targets.length;
  return c;
}

/** The serious and critical violations of the states checked, one line each, for a failure message. */
export function blocking(checked: Checked[]): string[] {
  return checked.flatMap((c) =>
    c.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${c.screen} (${c.theme}, ${c.size}): ${v.impact} ${v.id}: ${v.help} at ${v.targets.join(', ')}`),
  );
}

/** A Markdown table of the counts per screen (summed over themes and sizes), for the artifact and the log. */
export function countsTable(checked: Checked[]): string {
  const screens = [...new Set(checked.map((c) => c.screen))];
  const rows = screens.map((s) => {
    const sum: Counts = { minor: 0, moderate: 0, serious: 0, critical: 0 };
    for (const c of checked.filter((x) => x.screen === s)) {
      const n = countOf(c.violations);
      for (const i of IMPACTS) sum[i] += n[i];
    }
    return `| ${s} | ${sum.critical} | ${sum.serious} | ${sum.moderate} | ${sum.minor} |`;
  });
  return [
    '| screen (light+dark, 1280x800+1024x640) | critical | serious | moderate | minor |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
