/**
 * @file Handlers of the app settings and the studio preferences (engine, plain Node).
 *
 * See [Note: studio preferences] in shared/contract/settings.ts.
 */
import type { HandlersFor } from '../../../shared/contract/define';
import {
  DEFAULT_PREFERENCES,
  THEMES,
  TRAIN_BACKEND_CHOICES,
  type settingsOps,
  type StudioPreferences,
  type preferencesOps,
} from '../../../shared/contract/settings';
import type { EngineEnv } from './env';
import { readSettings, updateSettings } from '../settings/settings';

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

/** Handlers for {@link preferencesOps}. */
export function preferencesHandlers(env: EngineEnv): HandlersFor<typeof preferencesOps> {
  return {
    async preferencesGet() {
      return preferencesOf(readSettings(env.dataDir));
    },
    async preferencesSet(patch) {
      // updateSettings removes keys set to undefined: pass only the preferences that were given.
      const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      return preferencesOf(updateSettings(env.dataDir, given));
    },
  };
}

/** Handlers for {@link settingsOps}. */
export function settingsHandlers(env: EngineEnv): HandlersFor<typeof settingsOps> {
  return {
    async settingsGet() {
      return readSettings(env.dataDir);
    },
    async settingsSet(patch) {
      return updateSettings(env.dataDir, patch);
    },
  };
}
