import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { learnResult } from '../testing/fixtures';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';
import { Router, type RouterWindow } from './router.svelte';
import { parseRoute, routeHash } from './routes';
import { Studio } from './studio';

/** A browser window's location and history, with Back and Forward firing `popstate` as a browser does. */
class FakeWindow {
  entries: string[];
  at = 0;
  private listeners: (() => void)[] = [];

  constructor(hash = '') {
    this.entries = [hash];
  }

  get hash(): string {
    return this.entries[this.at] ?? '';
  }

  asWindow(): RouterWindow {
    const hashOf = () => this.hash;
    const self = { push: (url: string) => this.push(url), replace: (url: string) => this.replace(url) };
    const listeners = () => this.listeners;
    const setListeners = (l: (() => void)[]) => (this.listeners = l);
    return {
      location: {
        get hash() {
          return hashOf();
        },
      } as Location,
      history: {
        get state() {
          return null;
        },
        pushState: (_s: unknown, _t: string, url: string) => self.push(url),
        replaceState: (_s: unknown, _t: string, url: string) => self.replace(url),
      } as unknown as History,
      addEventListener: ((type: string, l: () => void) => {
        if (type === 'popstate') listeners().push(l);
      }) as Window['addEventListener'],
      removeEventListener: ((type: string, l: () => void) => {
        if (type === 'popstate') setListeners(listeners().filter((x) => x !== l));
      }) as Window['removeEventListener'],
    };
  }

  private push(url: string): void {
    this.entries = [...this.entries.slice(0, this.at + 1), url];
    this.at = this.entries.length - 1;
  }

  private replace(url: string): void {
    this.entries[this.at] = url;
  }

  back(): void {
    this.at = Math.max(0, this.at - 1);
    this.listeners.forEach((l) => l());
  }

  forward(): void {
    this.at = Math.min(this.entries.length - 1, this.at + 1);
    this.listeners.forEach((l) => l());
  }
}

function setup(hash = '') {
  const pets = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]);
  const run = (id: number) => ({
    id,
    modelId: 'demo',
    method: 'coop',
    seed: 1,
    shots: 2,
    status: 'done' as const,
    backend: 'wasm',
    createdAt: id,
    durationMs: 1,
    error: null,
    testAccuracy: 0.5 + id / 10,
    zeroShotAccuracy: 0.5,
  });
  pets.runs = [run(4), run(3)];
  const engine = new FakeEngine({
    ...pets.handlers(),
    projectRun: async ({ runId }) =>
      ({ id: runId, status: 'done', result: learnResult({ project: { id: 1, name: 'Pets', runId } }) }) as never,
  });
  const win = new FakeWindow(hash);
  const studio = new Studio(engine, fakePlatform());
  const router = new Router(studio, win.asWindow());
  return { engine, studio, router, win };
}

/** Lets the router's effect and the engine's answers run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('routes', () => {
  it('write the screen, the open project and the run Results shows, and read them back', () => {
    expect(routeHash({ screen: 'projects', projectId: null, runId: null })).toBe('#/projects');
    expect(routeHash({ screen: 'dataset', projectId: 3, runId: 9 })).toBe('#/dataset?project=3');
    expect(routeHash({ screen: 'results', projectId: 3, runId: 9 })).toBe('#/results?project=3&run=9');
    expect(parseRoute('#/results?project=3&run=9')).toEqual({ screen: 'results', projectId: 3, runId: 9 });
    expect(parseRoute('#/learn?project=12')).toEqual({ screen: 'learn', projectId: 12, runId: null });
  });

  it('name no route for anything else, and drop ids that are not ids', () => {
    for (const hash of ['', '#', '#/', '#/nowhere', '#results', '#/results/3', '#/RESULTS'])
      expect(parseRoute(hash)).toBeNull();
    expect(parseRoute('#/dataset?project=-1')).toEqual({ screen: 'dataset', projectId: null, runId: null });
    expect(parseRoute('#/dataset?project=0x10&run=4')).toEqual({ screen: 'dataset', projectId: null, runId: null });
    expect(parseRoute('#/results?project=1e3')).toEqual({ screen: 'results', projectId: null, runId: null });
  });
});

describe('Router', () => {
  beforeEach(resetToasts);

  it('gives each screen its own history entry, and Back and Forward move between them', async () => {
    const { studio, router, win } = setup();
    await router.start();
    expect(win.entries).toEqual(['#/projects']);
    await studio.openProject(1);
    await settle();
    studio.nav.go('learn');
    await settle();
    expect(win.hash).toBe('#/learn?project=1');
    win.back();
    await vi.waitFor(() => expect(studio.nav.current).toBe('dataset'));
    expect(win.hash).toBe('#/dataset?project=1');
    win.forward();
    await vi.waitFor(() => expect(studio.nav.current).toBe('learn'));
    // Going back does not push new entries.
    expect(win.entries.at(-1)).toBe('#/learn?project=1');
    router.stop();
  });

  it('comes back to the project, the screen and the earlier run a reloaded URL names', async () => {
    const { studio, router, win, engine } = setup('#/results?project=1&run=3');
    await router.start();
    expect(studio.projects.current?.name).toBe('Pets');
    expect(studio.nav.current).toBe('results');
    expect(studio.runs.shownRunId).toBe(3);
    expect(engine.argsOf('projectRun')).toContainEqual({ runId: 3 });
    expect(win.entries).toEqual(['#/results?project=1&run=3']);
    expect(errorToasts()).toEqual([]);
    router.stop();
  });

  it('goes to Projects, and corrects the URL, when the project a URL names is gone', async () => {
    const { studio, router, win } = setup('#/learn?project=7');
    await router.start();
    expect(studio.projects.current).toBeNull();
    expect(studio.nav.current).toBe('projects');
    expect(win.entries).toEqual(['#/projects']);
    router.stop();
  });

  it('keeps the opened run in the URL, and the latest run has none', async () => {
    const { studio, router, win } = setup();
    await router.start();
    await studio.projects.open(1);
    studio.nav.go('results');
    await settle();
    await studio.runs.open(3);
    await settle();
    expect(win.hash).toBe('#/results?project=1&run=3');
    studio.runs.showLatest();
    await settle();
    expect(win.hash).toBe('#/results?project=1');
    win.back();
    await vi.waitFor(() => expect(studio.runs.shownRunId).toBe(3));
    router.stop();
  });
});
