/**
 * @file Contract of the studio's preferences (training backend, theme) and of renaming a project (pure TypeScript).
 *
 * [Note: studio preferences] The preferences live in the same `<dataDir>/settings.json` as the download endpoint
 * (electron/engine/settings/settings.ts keeps unknown keys), so the desktop app, web mode and the CLI share them. The
 * data folder itself cannot be moved by the engine (it holds the database open): the Settings screen shows it and the
 * `coop-studio data-folder move` command that moves it with the app closed (electron/engine/settings/data-location.ts).
 *
 * [Note: project rename here] `projectRename` belongs with the project operations (shared/contract/projects.ts); it is
 * declared here because that file's owner was busy with learning runs when the UI needed it. Move it there as is.
 */
import { z } from 'zod';
import { op } from './define';
import type { ProjectSummary } from './projects';

/** Training backends a user can choose; `webgpu` only exists in the desktop app (a GPU compute window). */
export const TRAIN_BACKEND_CHOICES = ['auto', 'wasm', 'tensorflow', 'webgpu', 'webgl'] as const;
/** A training backend choice. */
export type TrainBackendChoice = (typeof TRAIN_BACKEND_CHOICES)[number];
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

/** Studio preference and project rename operations. */
export const studioOps = {
  preferencesGet: op<StudioPreferences>()(z.object({}), 'The studio preferences: training backend and theme.'),
  preferencesSet: op<StudioPreferences>()(
    z.object({ trainBackend: z.enum(TRAIN_BACKEND_CHOICES).optional(), theme: z.enum(THEMES).optional() }),
    'Change studio preferences; returns them all.',
  ),
  projectRename: op<ProjectSummary>()(
    z.object({ projectId: z.number().int().positive(), name: z.string().trim().min(1).max(200) }),
    'Rename a project.',
  ),
};
