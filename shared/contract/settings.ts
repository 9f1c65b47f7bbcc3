/**
 * @file Contract of the app settings and the studio's preferences (training backend, theme) (pure TypeScript).
 *
 * [Note: studio preferences] The preferences live in the same `<dataDir>/settings.json` as the download endpoint
 * (electron/engine/settings/settings.ts keeps unknown keys), so the desktop app, web mode and the CLI share them. The
 * data folder itself cannot be moved by the engine (it holds the database open): the Settings screen shows it and the
 * `coop-studio data-folder move` command that moves it with the app closed (electron/engine/settings/data-location.ts).
 */
import { z } from 'zod';
import { op } from './define';
import { httpUrl, type AppSettings } from './models';
import { TRAINING_BACKEND_SETTINGS } from './train';

/**
 * The training-backend setting as the Settings screen offers it: every setting but the slow `cpu` reference (see
 * [Note: one list of training backends]); `webgpu` and `webgl` only exist in the desktop app (a GPU compute window).
 */
const trainBackendChoice = z.enum(TRAINING_BACKEND_SETTINGS).exclude(['cpu']);
/** Training backends a user can choose, `auto` first, then best first. */
export const TRAIN_BACKEND_CHOICES: readonly TrainBackendChoice[] = trainBackendChoice.options;
/** A training backend choice. */
export type TrainBackendChoice = z.output<typeof trainBackendChoice>;
/** Colour themes; `system` follows the operating system. */
export const THEMES = ['system', 'light', 'dark'] as const;
/** A colour theme. */
export type Theme = (typeof THEMES)[number];

/** The preferences with their defaults filled in. */
export interface StudioPreferences {
  trainBackend: TrainBackendChoice;
  theme: Theme;
}

/** Preferences as stored when nothing was chosen. */
export const DEFAULT_PREFERENCES: StudioPreferences = { trainBackend: 'auto', theme: 'system' };

/** Studio preference operations. */
export const preferencesOps = {
  preferencesGet: op<StudioPreferences>()(z.object({}), 'The studio preferences: training backend and theme.'),
  preferencesSet: op<StudioPreferences>()(
    z.object({ trainBackend: trainBackendChoice.optional(), theme: z.enum(THEMES).optional() }),
    'Change studio preferences; returns them all.',
  ),
};

/** Settings operations. */
export const settingsOps = {
  settingsGet: op<AppSettings>()(z.object({}), 'The app settings.'),
  settingsSet: op<AppSettings>()(
    z.object({
      /** Download endpoint; null removes the setting (back to the default). */
      hfEndpoint: httpUrl.nullable().optional(),
    }),
    'Change app settings; returns them all.',
  ),
};
