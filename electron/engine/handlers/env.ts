/**
 * @file What every handler of the engine can reach (engine, plain Node).
 */

/** Services shared by the engine's handlers. */
export interface EngineEnv {
  /** The data folder (database, caches, downloaded models). */
  dataDir: string;
  /** Diagnostic log line (stderr in the worker; never stdout, which the CLI keeps for JSON). */
  log(message: string): void;
}
