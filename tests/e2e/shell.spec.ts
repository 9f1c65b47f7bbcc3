/**
 * @file E2E of the app shell in web mode: the token gate, live doctor data, projects (create, rename, recent, delete
 * with confirmation) and the Settings screen (Node test runner driving headless Chromium).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { screenshot, screenTitle, step, until, useStudio } from './harness';

describe('app shell in web mode', () => {
  const studio = useStudio();

  it('refuses the page without the token', async () => {
    const r = await fetch(studio.served.origin + '/');
    expect(r.status).toBe(401);
  });

  it('keeps the token out of cookies and the address bar, and a reload in the same tab keeps working', async () => {
    const { page, pageErrors } = await studio.open();
    expect(new URL(page.url()).searchParams.get('token')).toBeNull();
    expect(await page.context().cookies()).toEqual([]);
    await page.reload();
    await page.getByRole('heading', { level: 2, name: 'New project' }).waitFor();
    // A new tab (no sessionStorage) without the printed URL says how to get in.
    const other = await studio.browser.newPage();
    await other.goto(studio.served.origin + '/');
    await expect(other.getByRole('alert').textContent()).resolves.toContain('coop-studio serve');
    await other.close();
    expect(pageErrors).toEqual([]);
  });

  it('opens the shell and shows live doctor data from the engine (on Settings, not the first screen)', async () => {
    const { page, pageErrors } = await studio.open();
    for (const name of ['Projects', 'Dataset', 'Learn', 'Results', 'Experiments', 'Models', 'Settings']) {
      await expect(page.getByRole('button', { name, exact: true }).isVisible()).resolves.toBe(true);
    }
    // The first screen starts with what a new user came for, not with diagnostics.
    await page.getByRole('heading', { level: 2, name: 'Try it with a sample dataset' }).waitFor();
    expect(await page.getByRole('list', { name: 'tfjs backends' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const backends = page.getByRole('list', { name: 'tfjs backends' });
    await backends.waitFor();
    await expect(backends.textContent()).resolves.toContain('wasm');
    const providers = await page.getByRole('list', { name: 'ONNX Runtime providers' }).textContent();
    expect(providers).toContain('cpu');
    const facts = await page.getByLabel('System check').textContent();
    expect(facts).toContain(studio.served.dataDir);
    await expect(page.getByLabel('Status').textContent()).resolves.toContain('Training backend: wasm');
    await screenshot(page, '01-shell');

    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await expect(screenTitle(page)).resolves.toBe('Models');
    expect(pageErrors).toEqual([]);
  });

  it('creates, renames, reopens from Recent and deletes projects', async () => {
    const { page, pageErrors } = await studio.open();
    const table = page.getByRole('table', { name: 'Projects' });
    for (const name of ['Tulips', 'Birds']) {
      await step(page, `create ${name}`, async () => {
        await page.getByRole('button', { name: 'Projects', exact: true }).click();
        await page.getByLabel('Project name', { exact: true }).fill(name);
        await page.getByRole('button', { name: 'Create project' }).click();
        await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor();
      });
    }
    const recent = page.getByRole('list', { name: 'Recent projects' });
    await step(page, 'recent projects list the last opened first', async () => {
      await until(page, 'two recent projects', async () => (await recent.getByRole('button').count()) === 2, 10_000);
      expect(await recent.getByRole('button').allTextContents()).toEqual(['Birds', 'Tulips']);
    });

    await step(page, 'rename a project', async () => {
      await page.getByRole('button', { name: 'Projects', exact: true }).click();
      await page.getByRole('button', { name: 'Rename Tulips' }).click();
      const dialog = page.getByRole('dialog', { name: 'Rename project' });
      await dialog.waitFor();
      const input = dialog.getByLabel('New project name');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('New project name');
      await input.fill('Garden tulips');
      await input.press('Enter');
      await dialog.waitFor({ state: 'hidden' });
      await table.getByRole('cell', { name: 'Garden tulips', exact: true }).waitFor();
      await screenshot(page, '02-projects');
    });

    await step(page, 'the rename is stored by the engine, not only shown', async () => {
      await page.reload();
      await page
        .getByRole('table', { name: 'Projects' })
        .getByRole('cell', { name: 'Garden tulips', exact: true })
        .waitFor();
      expect(await page.getByRole('cell', { name: 'Tulips', exact: true }).count()).toBe(0);
      // Recent projects survive the reload (kept per browser profile) and follow the new name.
      expect(await recent.getByRole('button').allTextContents()).toEqual(['Birds', 'Garden tulips']);
    });

    await step(page, 'open a project from Recent', async () => {
      await page.getByRole('button', { name: 'Open recent project Garden tulips' }).click();
      await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor();
      expect(await recent.getByRole('button').allTextContents()).toEqual(['Garden tulips', 'Birds']);
    });

    await step(page, 'delete asks first with focus on Cancel, and Cancel keeps the project', async () => {
      await page.getByRole('button', { name: 'Projects', exact: true }).click();
      await page.getByRole('button', { name: 'Delete Birds' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete project?' });
      await dialog.waitFor();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await table.getByRole('cell', { name: 'Birds', exact: true }).count()).toBe(1);
      await page.getByRole('button', { name: 'Delete Birds' }).click();
      await dialog.getByRole('button', { name: 'Delete project' }).click();
      await until(
        page,
        'Birds to leave the list',
        async () => (await table.getByRole('cell', { name: 'Birds', exact: true }).count()) === 0,
        10_000,
      );
      expect(await recent.getByRole('button').allTextContents()).toEqual(['Garden tulips']);
    });
    expect(pageErrors).toEqual([]);
  });

  it('shows and keeps the settings: data folder, backend, endpoint, theme, no telemetry', async () => {
    const { page, pageErrors } = await studio.open();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect(screenTitle(page)).resolves.toBe('Settings');
    await until(
      page,
      'the data folder',
      async () => (await page.getByTestId('data-folder').textContent()) === studio.served.dataDir,
      10_000,
    );
    await page.getByLabel('New data folder').fill('/mnt/big disk/coop');
    expect(await page.getByTestId('move-command').textContent()).toBe(
      'coop-studio data-folder move "/mnt/big disk/coop"',
    );
    expect(await page.getByTestId('telemetry').textContent()).toContain('No telemetry');
    // Web mode offers no GPU compute window.
    expect(await page.getByRole('radio', { name: /WebGPU/ }).count()).toBe(0);

    await step(page, 'choose a theme and a backend', async () => {
      await page.getByRole('radio', { name: 'Dark' }).check();
      await page.getByRole('radio', { name: /^WebAssembly/ }).check();
      await until(
        page,
        'the preferences in settings.json',
        async () => {
          const file = join(studio.served.dataDir, 'settings.json');
          try {
            const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
            return v['theme'] === 'dark' && v['trainBackend'] === 'wasm';
          } catch {
            return false;
          }
        },
        10_000,
      );
      expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(bg).toBe('rgb(21, 24, 28)');
      await screenshot(page, '03-settings-dark');
    });

    await step(page, 'save a download endpoint', async () => {
      await page.getByLabel('Download endpoint').fill('https://mirror.example.org');
      await page.getByRole('button', { name: 'Save endpoint' }).click();
      await page.getByRole('status').filter({ hasText: 'mirror.example.org' }).waitFor();
    });

    await step(page, 'the choices survive a reload', async () => {
      await page.reload();
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await until(page, 'the stored theme', async () => page.getByRole('radio', { name: 'Dark' }).isChecked(), 10_000);
      expect(await page.getByRole('radio', { name: /^WebAssembly/ }).isChecked()).toBe(true);
      expect(await page.getByLabel('Download endpoint').inputValue()).toBe('https://mirror.example.org');
      await page.getByRole('radio', { name: 'Follow the system' }).check();
      await until(
        page,
        'the system theme',
        async () => (await page.evaluate(() => document.documentElement.dataset['theme'])) === undefined,
        10_000,
      );
    });
    expect(pageErrors).toEqual([]);
  });
});
