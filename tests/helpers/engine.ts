/**
 * @file Test helpers: a fresh data folder and an in-process engine over it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineClient } from '../../shared/client';
import { Engine, inProcessClient } from '../../electron/engine/engine';
import { createHandlers } from '../../electron/engine/handlers';

/** Makes a fresh temporary folder; `cleanup` removes it. */
export function tempDir(prefix = 'coop-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** An in-process engine client over a fresh data folder. */
export function inProcessEngine(): { client: EngineClient; dataDir: string; cleanup: () => Promise<void> } {
  const dir = tempDir('coop-data-');
  const client = inProcessClient(new Engine(createHandlers({ dataDir: dir.path, log: () => {} })));
  return {
    client,
    dataDir: dir.path,
    cleanup: async () => {
      await client.close();
      dir.cleanup();
    },
  };
}
