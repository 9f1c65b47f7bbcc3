/**
 * @file The studio's preferences (training backend, theme) and the download endpoint, loaded once and applied to the
 * page (renderer). See [Note: studio preferences] in shared/contract/settings.ts.
 */
import type { AppSettings } from '../../../shared/contract';
import {
  DEFAULT_PREFERENCES,
  type StudioPreferences,
  type Theme,
  type TrainBackendChoice,
} from '../../../shared/contract/settings';
import type { TRAIN_BACKENDS } from '../../../shared/contract/train';
import { engine } from '../app/client';
import { toasts, valueOr } from '../app/errors.svelte';

const THEME_KEY = 'coop-studio-theme';

/**
 * [Note: theme before load] The theme is also kept in localStorage so the page starts in the right colours before the
 * engine answers; the engine's settings file stays the source of truth and overwrites it once loaded.
 */
function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset['theme'];
  else root.dataset['theme'] = theme;
  localStorage.setItem(THEME_KEY, theme);
}

class SettingsController {
  prefs = $state<StudioPreferences>({
    ...DEFAULT_PREFERENCES,
    theme: (localStorage.getItem(THEME_KEY) as Theme | null) ?? DEFAULT_PREFERENCES.theme,
  });
  app = $state<AppSettings>({});
  loaded = $state(false);

  constructor() {
    applyTheme(this.prefs.theme);
  }

  async load(): Promise<void> {
    const [p, a] = await Promise.all([engine.call('preferencesGet', {}), engine.call('settingsGet', {})]);
    const prefs = valueOr(p);
    if (prefs) {
      this.prefs = prefs;
      applyTheme(prefs.theme);
    }
    const app = valueOr(a);
    if (app) this.app = app;
    this.loaded = true;
  }

  async setTheme(theme: Theme): Promise<void> {
    applyTheme(theme);
    const v = valueOr(await engine.call('preferencesSet', { theme }));
    if (v) this.prefs = v;
  }

  async setTrainBackend(trainBackend: TrainBackendChoice): Promise<void> {
    const v = valueOr(await engine.call('preferencesSet', { trainBackend }));
    if (v) this.prefs = v;
  }

  /** Saves the download endpoint; null goes back to the default. */
  async setEndpoint(hfEndpoint: string | null): Promise<boolean> {
    const v = valueOr(await engine.call('settingsSet', { hfEndpoint }));
    if (!v) return false;
    this.app = v;
    toasts.push('info', 'Saved', hfEndpoint ? `Models download from ${hfEndpoint}.` : 'Back to the default endpoint.');
    return true;
  }

  /**
   * The backend `learn` is asked for: the chosen Node backend, or none (the engine's own choice) for `auto` and for
   * `webgpu`, which only the desktop app's GPU compute window can run.
   */
  get learnBackend(): (typeof TRAIN_BACKENDS)[number] | undefined {
    const b = this.prefs.trainBackend;
    return b === 'wasm' || b === 'tensorflow' ? b : undefined;
  }
}

/** The shared settings state. */
export const settings = new SettingsController();
