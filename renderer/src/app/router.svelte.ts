/**
 * @file Keeps the page's URL and the studio in step: the URL follows the screen, the open project and the run shown;
 * a reload, Back and Forward bring them back (renderer). See [Note: routes] in routes.ts.
 */
import { untrack } from 'svelte';
import { parseRoute, routeHash, type Route } from './routes';
import type { Studio } from './studio';

/** What the router needs of the page: its location and history (a test passes happy-dom's window). */
export type RouterWindow = Pick<Window, 'location' | 'history' | 'addEventListener' | 'removeEventListener'>;

/** The URL of one studio (see [Note: routes]). */
export class Router {
  /** True while the studio is being moved to a URL's route: its changes must not push history entries. */
  private applying = false;
  private stopEffect: (() => void) | null = null;

  constructor(
    private readonly studio: Pick<Studio, 'nav' | 'projects' | 'runs'>,
    private readonly win: RouterWindow,
  ) {}

  /** The route of the studio as it is. */
  get route(): Route {
    const { nav, projects, runs } = this.studio;
    return {
      screen: nav.current,
      projectId: projects.current?.id ?? null,
      runId: runs.chosen ? runs.shownRunId : null,
    };
  }

  /** Goes where the page's URL says (a reload), then follows the studio with the URL. */
  async start(): Promise<void> {
    const initial = parseRoute(this.win.location.hash);
    if (initial) await this.apply(initial);
    else this.write(true);
    this.win.addEventListener('popstate', this.onPopState);
    this.stopEffect = $effect.root(() => {
      $effect(() => {
        const hash = routeHash(this.route);
        untrack(() => {
          if (!this.applying && hash !== this.win.location.hash) this.win.history.pushState(null, '', hash);
        });
      });
    });
  }

  /** Stops following (tests). */
  stop(): void {
    this.stopEffect?.();
    this.stopEffect = null;
    this.win.removeEventListener('popstate', this.onPopState);
  }

  private readonly onPopState = (): void => {
    const route = parseRoute(this.win.location.hash);
    if (route) void this.apply(route);
  };

  /**
   * Moves the studio to `route`: its project (opened when another one is open), its screen and its run. What could
   * not be reached (a deleted project or run) is left as it is, and the URL is corrected to where the studio is.
   */
  private async apply(route: Route): Promise<void> {
    const { nav, projects, runs } = this.studio;
    this.applying = true;
    try {
      if (route.projectId !== null && route.projectId !== projects.current?.id) await projects.open(route.projectId);
      const reached = route.projectId === null || projects.current?.id === route.projectId;
      nav.go(reached ? route.screen : 'projects');
      if (reached && route.runId !== null) await runs.open(route.runId);
      else if (reached) runs.showLatest();
    } finally {
      this.write(true);
      this.applying = false;
    }
  }

  /** Writes the studio's route into the URL: a new history entry, or in place of the current one. */
  private write(replace: boolean): void {
    const hash = routeHash(this.route);
    if (hash === this.win.location.hash) return;
    if (replace) this.win.history.replaceState(this.win.history.state, '', hash);
    else this.win.history.pushState(null, '', hash);
  }
}
