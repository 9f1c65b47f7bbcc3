/**
 * @file State of the Settings screen: the studio's preferences (training backend, theme) applied to the page, the
 * model download endpoint, and the data-folder move command (renderer). See [Note: studio preferences] in
 * shared/contract/settings.ts.
 */
import type { EngineClient } from '../../../shared/client';
import type { AppSettings } from '../../../shared/contract';
import {
  DEFAULT_PREFERENCES,
  type StudioPreferences,
  type Theme,
  type TrainBackendChoice,
} from '../../../shared/contract/settings';
import { httpUrl } from '../../../shared/contract/models';
import { toasts, valueOr } from '../app/errors.svelte';
import { valueError } from '../app/field-errors';

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

/** Quotes a path for a POSIX shell when it needs it. */
function shellQuote(p: string): string {
  return /[\s"'$`\\]/.test(p) ? `"${p.replace(/(["$`\\])/g, '\\$1')}"` : p;
}

/** The studio's settings. */
export class SettingsController {
  prefs = $state<StudioPreferences>({
    ...DEFAULT_PREFERENCES,
    theme: (localStorage.getItem(THEME_KEY) as Theme | null) ?? DEFAULT_PREFERENCES.theme,
  });
  app = $state<AppSettings>({});
  loaded = $state(false);
  /** The download endpoint as typed, and what is wrong with it (shown next to the field). */
  endpoint = $state('');
  endpointError = $state<string | null>(null);
  /** Where the data folder should move to, as typed. */
  moveTo = $state('');
  copied = $state(false);

  constructor(private readonly engine: EngineClient) {
    applyTheme(this.prefs.theme);
  }

  /** The command that moves the data folder to {@link moveTo}. */
  get moveCommand(): string {
    const to = this.moveTo.trim();
    return `coop-studio data-folder move ${to ? shellQuote(to) : '<new folder>'}`;
  }

  async load(): Promise<void> {
    const [p, a] = await Promise.all([this.engine.call('preferencesGet', {}), this.engine.call('settingsGet', {})]);
    const prefs = valueOr(p);
    if (prefs) {
      this.prefs = prefs;
      applyTheme(prefs.theme);
    }
    const app = valueOr(a);
    if (app) this.app = app;
    this.loaded = true;
  }

  /** Loads the settings and fills the endpoint field with the stored one. */
  async open(): Promise<void> {
    await this.load();
    this.endpoint = typeof this.app.hfEndpoint === 'string' ? this.app.hfEndpoint : '';
  }

  async setTheme(theme: Theme): Promise<void> {
    applyTheme(theme);
    const v = valueOr(await this.engine.call('preferencesSet', { theme }));
    if (v) this.prefs = v;
  }

  /** Stores the training backend; the engine reads it for every run that does not name one. */
  async setTrainBackend(trainBackend: TrainBackendChoice): Promise<void> {
    const v = valueOr(await this.engine.call('preferencesSet', { trainBackend }));
    if (v) this.prefs = v;
  }

  /** Saves the download endpoint; null goes back to the default. */
  async setEndpoint(hfEndpoint: string | null): Promise<boolean> {
    const v = valueOr(await this.engine.call('settingsSet', { hfEndpoint }));
    if (!v) return false;
    this.app = v;
    toasts.push('info', 'Saved', hfEndpoint ? `Models download from ${hfEndpoint}.` : 'Back to the default endpoint.');
    return true;
  }

  /** "Save endpoint": the typed endpoint (checked by the contract's rule first), blank for the default. */
  async saveEndpoint(): Promise<boolean> {
    const typed = this.endpoint.trim();
    this.endpointError = typed ? valueError(httpUrl, typed, 'The download endpoint') : null;
    if (this.endpointError) return false;
    return this.setEndpoint(typed || null);
  }

  /** "Use default". */
  async useDefaultEndpoint(): Promise<void> {
    this.endpointError = null;
    if (await this.setEndpoint(null)) this.endpoint = '';
  }

  /** Copies the move command to the clipboard. */
  async copyMoveCommand(): Promise<void> {
    await navigator.clipboard?.writeText(this.moveCommand).catch(() => undefined);
    this.copied = true;
  }
}
