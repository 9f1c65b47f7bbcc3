/**
 * @file The engine's handler table (engine, plain Node).
 *
 * Typed `Handlers`: an operation of the contract without a handler here is a `tsc` error
 * (see [Note: one contract] and tests/unit/handler-table.types.test.ts).
 */
import type { Handlers } from '../../../shared/contract';
import type { EngineEnv } from './env';
import { diagnosticHandlers, systemHandlers } from './system';
import { modelsHandlers } from './models';
import { projectsHandlers } from './projects';
import { trainHandlers } from './train';
import { clipHandlers } from './clip';
import { preferencesHandlers, settingsHandlers } from './settings';
import { modelCheckHandlers } from './model-check';
import { methodsHandlers } from './methods';
import { experimentsHandlers } from './experiments';
import { downloadsHandlers } from './downloads';
import { samplesHandlers } from './samples';

/** Builds every handler of the contract over one environment. */
export function createHandlers(env: EngineEnv): Handlers {
  return {
    ...systemHandlers(env),
    ...diagnosticHandlers(),
    ...modelsHandlers(env),
    ...settingsHandlers(env),
    ...projectsHandlers(env),
    ...trainHandlers(env),
    ...clipHandlers(env),
    ...preferencesHandlers(env),
    ...modelCheckHandlers(env),
    ...methodsHandlers(env),
    ...experimentsHandlers(env),
    ...downloadsHandlers(env),
    ...samplesHandlers(env),
  };
}
