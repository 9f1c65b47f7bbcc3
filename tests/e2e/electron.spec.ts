/**
 * @file Desktop E2E: drives the real Electron app with Playwright's `_electron` when an Electron binary is installed.
 *
 * [Note: Electron binary] Build machines without CDN access cannot download Electron (`npm ci` skips it), so this
 * spec is skipped there with a printed reason; on a normal machine `npm run electron:fetch` makes it run.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../electron/engine/paths';

function electronBinary(): { path: string | null; reason: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' ? { path, reason: '' } : { path: null, reason: 'electron did not export a path' };
  } catch (e) {
    return { path: null, reason: e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e) };
  }
}

const binary = electronBinary();
if (!binary.path) {
  console.warn(
    `[electron.spec] SKIPPED: no Electron binary (${binary.reason}). Run \`npm run electron:fetch\` to enable.`,
  );
}

describe.skipIf(!binary.path)('desktop app (Electron)', () => {
  it('opens the window, shows the shell and live engine data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coop-electron-'));
    const app = await electron.launch({
      executablePath: binary.path ?? '',
      args: [appRoot()],
      env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir },
    });
    try {
      const page = await app.firstWindow();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      const backends = page.getByRole('list', { name: 'tfjs backends' });
      await backends.waitFor();
      await expect(backends.textContent()).resolves.toContain('wasm');
      await expect(page.getByLabel('Status').textContent()).resolves.toContain('Connection: desktop');
      // No Node in the page: nodeIntegration off and context isolation on (only the preload's narrow API is visible).
      const globals = await page.evaluate(() => ({
        require: typeof (globalThis as { require?: unknown }).require,
        process: typeof (globalThis as { process?: unknown }).process,
        api: Object.keys((globalThis as { coopStudio?: object }).coopStudio ?? {}).sort(),
      }));
      expect(globals).toMatchObject({ require: 'undefined', process: 'undefined' });
      expect(globals.api).toContain('send');
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
