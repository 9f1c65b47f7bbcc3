/**
 * @file The one engine contract: every operation the renderer, the CLI and tests can call (pure TypeScript).
 *
 * Each domain declares its operations in its own file; this file merges them. See [Note: one contract].
 */
import type { ArgsIn, HandlersFor, ProgressOf, ResultOf } from './define';
import { diagnosticOps, systemOps } from './system';
import { modelsOps } from './models';
import { projectsOps } from './projects';
import { trainOps } from './train';
import { clipOps } from './clip';
import { settingsOps, preferencesOps } from './settings';
import { modelCheckOps } from './model-check';
import { methodsOps } from './methods';
import { experimentsOps } from './experiments';
import { similarityMapOps } from './similarity-map';
import { downloadsOps } from './downloads';
import { samplesOps } from './samples';

/** Every engine operation by name. */
export const contract = {
  ...systemOps,
  ...diagnosticOps,
  ...modelsOps,
  ...settingsOps,
  ...projectsOps,
  ...trainOps,
  ...clipOps,
  ...preferencesOps,
  ...modelCheckOps,
  ...methodsOps,
  ...experimentsOps,
  ...similarityMapOps,
  ...downloadsOps,
  ...samplesOps,
};

/** The contract's type. */
export type Contract = typeof contract;
/** Name of an engine operation. */
export type OpName = keyof Contract;
/** Arguments a caller passes to operation `N`. */
export type OpArgs<N extends OpName> = ArgsIn<Contract[N]>;
/** Result of operation `N`. */
export type OpResult<N extends OpName> = ResultOf<Contract[N]>;
/** Progress event of operation `N`. */
export type OpProgress<N extends OpName> = ProgressOf<Contract[N]>;
/** The engine's handler table: one handler per operation, checked by `tsc`. */
export type Handlers = HandlersFor<Contract>;

/** True when `name` is an operation of the contract. */
export function isOpName(name: string): name is OpName {
  return Object.prototype.hasOwnProperty.call(contract, name);
}

export * from './define';
export * from './system';
export * from './models';
export * from './projects';
export * from './train';
export * from './clip';
export * from './settings';
export * from './model-check';
export * from './methods';
export * from './experiments';
export * from './experiment-plan';
export * from './similarity-map';
export * from './downloads';
export * from './samples';
