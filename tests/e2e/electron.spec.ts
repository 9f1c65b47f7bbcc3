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
import { appRoot } from '../../electron/engine/settings/paths';

function electronBinary(): { path: string | null; reason: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' ? { path, reason: '' } : { path: null, reason: 'electron did not export a path' };
  } catch (e) {
    return { path: null, reason: e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e) };
  }
}

/** Polls `get` until it returns a value (no fixed sleeps: 100 ms between tries, 30 s at most). */
async function pollFor<T>(get: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the desktop app');
    await new Promise((r) => setTimeout(r, 100));
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
      // The hidden compute window is a window too: pick the app's own page by its URL.
      await app.firstWindow();
      const page = await pollFor(() => app.windows().find((w) => w.url().startsWith('app://renderer/')));
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      // The diagnostics are on Settings (About this machine).
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      const backends = page.getByRole('list', { name: 'tfjs backends' });
      await backends.waitFor();
      // wasm in the engine; WebGPU/WebGL listed as the compute window found them (available or with the reason).
      await expect(backends.textContent()).resolves.toContain('wasm');
      await expect(backends.textContent()).resolves.toContain('webgl');
      const compute = await pollFor(() => app.windows().find((w) => w.url().startsWith('app://compute/')));
      // The compute page gets no API from the preload, and is never shown.
      expect(await compute.evaluate(() => typeof (globalThis as { coopStudio?: unknown }).coopStudio)).toBe(
        'undefined',
      );
      expect(
        await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().filter((w) => w.isVisible()).length),
      ).toBe(1);
      await expect(page.getByLabel('Status').textContent()).resolves.toContain('Connection: desktop');
      // No Node in the page: nodeIntegration off and context isolation on (only the preload's narrow API is visible).
      const globals = await page.evaluate(() => ({
        require: typeof (globalThis as { require?: unknown }).require,
        process: typeof (globalThis as { process?: unknown }).process,
        api: Object.keys((globalThis as { coopStudio?: object }).coopStudio ?? {}).sort(),
      }));
      expect(globals).toMatchObject({ require: 'undefined', process: 'undefined' });
      // The engine answers over a MessagePort main handed over (see [Note: engine port]); main relays nothing.
      expect(globals.api).toEqual(['connectEngine', 'desktop', 'onEngineNotice', 'onMenu', 'pathForFile', 'transport']);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
