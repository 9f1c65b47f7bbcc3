/**
 * @file The studio: every screen's controller, created once over one engine client and one platform, and handed to
 * the components through Svelte's context (renderer).
 *
 * [Note: controllers] Each screen keeps its markup in its component and its state and engine calls in a controller
 * class in a `*.svelte.ts` beside it (`learn/learn.svelte.ts` for `learn/LearnScreen.svelte`). Controllers get the
 * engine client, the platform and the controllers they read through their constructors, never import a component,
 * and hold no module-level state (the toasts of `errors.svelte.ts`, the UI's one error funnel, are the exception), so
 * a test builds a studio over a fake engine (see `testing/harness.ts`).
 */
import { getContext } from 'svelte';
import type { EngineClient } from '../../../shared/client';
import type { SampleDataset } from '../../../shared/contract';
import { CompareController } from '../compare/compare.svelte';
import { ClassEditor } from '../dataset/class-editor.svelte';
import { DatasetController } from '../dataset/dataset.svelte';
import { ReadinessController } from '../dataset/readiness.svelte';
import { ExperimentsController } from '../experiments/experiments.svelte';
import { LearnController } from '../learn/learn.svelte';
import { ModelsController } from '../models/models.svelte';
import { ProjectsController } from '../projects/projects.svelte';
import { ResultsController } from '../results/results.svelte';
import { RunHistoryController } from '../results/run-history.svelte';
import { DoctorController } from '../settings/doctor.svelte';
import { SimilarityController } from '../similarity/similarity.svelte';
import { SettingsController } from '../settings/settings.svelte';
import { showError } from './errors.svelte';
import { Navigation } from './nav.svelte';
import type { Platform } from './platform';
import { Router } from './router.svelte';

const STUDIO_KEY = Symbol('studio');

/** All controllers of one page (see [Note: controllers]). */
export class Studio {
  readonly nav = new Navigation();
  readonly doctor: DoctorController;
  readonly settings: SettingsController;
  readonly projects: ProjectsController;
  readonly classes: ClassEditor;
  readonly dataset: DatasetController;
  readonly learn: LearnController;
  readonly readiness: ReadinessController;
  readonly runs: RunHistoryController;
  readonly results: ResultsController;
  readonly compare: CompareController;
  readonly experiments: ExperimentsController;
  readonly similarity: SimilarityController;
  readonly models: ModelsController;
  readonly router: Router;

  constructor(
    readonly engine: EngineClient,
    readonly platform: Platform,
  ) {
    this.doctor = new DoctorController(engine);
    this.settings = new SettingsController(engine);
    this.projects = new ProjectsController(engine, platform);
    this.classes = new ClassEditor(engine, this.projects);
    this.dataset = new DatasetController(engine, platform, this.projects, this.classes);
    this.learn = new LearnController(engine, this.projects, this.nav);
    this.readiness = new ReadinessController(engine, this.projects, this.learn);
    this.runs = new RunHistoryController(engine, this.projects, this.learn);
    this.results = new ResultsController(engine, platform, this.runs, this.projects);
    this.compare = new CompareController(engine, this.projects, this.learn);
    this.experiments = new ExperimentsController(engine, platform, this.projects, this.learn);
    this.similarity = new SimilarityController(engine);
    this.models = new ModelsController(engine, platform);
    this.router = new Router(this, window);
  }

  /** First loads, the page's URL (see [Note: routes]), and the desktop app's menu commands and engine notices. */
  start(): void {
    void this.router.start();
    void this.doctor.load();
    void this.projects.load();
    void this.projects.loadSamples();
    void this.settings.load();
    this.platform.onMenu((command) => {
      if (command === 'open-project') this.nav.go('projects');
      else if (command === 'import-dataset') this.nav.go(this.projects.current ? 'dataset' : 'projects');
      else if (command === 'export') this.nav.go('results');
      else this.nav.go('settings');
    });
    this.platform.onEngineNotice((notice) => showError({ code: 'engine_crashed', message: notice.message }));
  }

  /** "Try it with a sample dataset": a new project named after the sample, its Dataset screen, and the import. */
  async openSample(sample: SampleDataset): Promise<void> {
    if (!(await this.projects.create(this.projects.freeName(`${sample.name} sample`)))) return;
    this.nav.go('dataset');
    await this.dataset.importSample(sample.name);
  }

  /** Opens a project, then shows its Dataset screen (unless the user went elsewhere meanwhile). */
  async openProject(id: number): Promise<void> {
    await this.nav.goAfter('dataset', this.projects.open(id));
  }
}

/** The context a component tree needs: `mount(App, { target, context: studioContext(studio) })`. */
export function studioContext(studio: Studio): Map<symbol, Studio> {
  return new Map([[STUDIO_KEY, studio]]);
}

/** The studio of the component being initialised (call it at the top of a component's script). */
export function useStudio(): Studio {
  const studio = getContext<Studio | undefined>(STUDIO_KEY);
  if (!studio) throw new Error('No studio in the context: mount the component with studioContext(studio).');
  return studio;
}
