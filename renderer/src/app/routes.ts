/**
 * @file Where the page is, as a URL: the screen, the open project and the run Results shows (renderer).
 *
 * [Note: routes] Each screen has its own URL in the hash, `#/<screen>?project=<id>&run=<id>` (`#/results?project=3&run=7`),
 * so a reload keeps the open project, the screen and the run shown, a URL can be bookmarked, and the browser's Back
 * and Forward move between screens. The hash never reaches the server: `coop-studio serve` serves the one page for
 * every route, the desktop app's `app://renderer/` too, and the page's token (see [Note: the page's token] in
 * client.ts) stays out of it. `app/router.svelte.ts` keeps the URL and the studio in step.
 */
import { SCREENS, type ScreenId } from './nav.svelte';

/** Where the page is. */
export interface Route {
  screen: ScreenId;
  /** The open project, if any. */
  projectId: number | null;
  /** The run Results shows when it is not the latest (see [Note: the run shown] in results/run-history.svelte.ts). */
  runId: number | null;
}

const SCREEN_IDS = new Set<string>(SCREENS.map((s) => s.id));

const positiveInt = (v: string | null): number | null => {
  if (v === null || !/^\d{1,15}$/.test(v)) return null;
  const n = Number(v);
  return n > 0 ? n : null;
};

/** The hash of a route (see [Note: routes]). */
export function routeHash(route: Route): string {
  const q = new URLSearchParams();
  if (route.projectId !== null) q.set('project', String(route.projectId));
  if (route.runId !== null && route.screen === 'results') q.set('run', String(route.runId));
  const query = q.toString();
  return `#/${route.screen}${query ? `?${query}` : ''}`;
}

/** The route a hash names; null when it names none (empty, unknown screen). Bad ids are dropped, not guessed. */
export function parseRoute(hash: string): Route | null {
  const m = /^#\/([a-z-]+)(?:\?(.*))?$/.exec(hash);
  if (!m?.[1] || !SCREEN_IDS.has(m[1])) return null;
  const q = new URLSearchParams(m[2] ?? '');
  const screen = m[1] as ScreenId;
  return {
    screen,
    projectId: positiveInt(q.get('project')),
    runId: screen === 'results' ? positiveInt(q.get('run')) : null,
  };
}
