/**
 * @file Handlers of the studio preferences and of renaming a project (engine, plain Node).
 *
 * See [Note: studio preferences] and [Note: project rename here] in shared/contract/settings.ts.
 */
import type { HandlersFor } from '../../../shared/contract/define';
import {
  DEFAULT_PREFERENCES,
  THEMES,
  TRAIN_BACKEND_CHOICES,
  type StudioPreferences,
  type studioOps,
} from '../../../shared/contract/settings';
import { AppError } from '../../../shared/result';
import type { EngineEnv } from './env';
import { readSettings, updateSettings } from '../settings/settings';
import { storeDb } from '../store/db';
import { getProject } from '../store/projects-repo';
import { stmt } from '../store/statements';

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** The preferences in a settings object, with defaults for missing or unknown values. */
export function preferencesOf(settings: Record<string, unknown>): StudioPreferences {
  return {
    trainBackend: pick(settings['trainBackend'], TRAIN_BACKEND_CHOICES, DEFAULT_PREFERENCES.trainBackend),
    theme: pick(settings['theme'], THEMES, DEFAULT_PREFERENCES.theme),
  };
}

/** Handlers for {@link studioOps}. */
export function studioHandlers(env: EngineEnv): HandlersFor<typeof studioOps> {
  return {
    async preferencesGet() {
      return preferencesOf(readSettings(env.dataDir));
    },
    async preferencesSet(patch) {
      // updateSettings removes keys set to undefined: pass only the preferences that were given.
      const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      return preferencesOf(updateSettings(env.dataDir, given));
    },
    async projectRename({ projectId, name }) {
      const db = storeDb(env.dataDir);
      const changed = stmt(db, 'UPDATE projects SET name = ?, updated_at = ? WHERE id = ?').run(
        name,
        Date.now(),
        projectId,
      ).changes;
      if (changed === 0) throw new AppError('not_found', `There is no project with id ${projectId}.`);
      return getProject(db, projectId);
    },
  };
}
