/**
 * @file E2E: the core flow by keyboard alone: skip link, create a project, import a dataset, learn a prompt, read the
 * results (the confusion matrix as one Tab stop with arrow keys), export the context (Node test runner driving
 * headless Chromium).
 *
 * After the page loads, every action is a key press (`page.keyboard`); the test reads the page to know where focus
 * is, and answers the folder chooser that the keyboard opened (a browser's file dialog is outside the page). A
 * control that cannot be reached with Tab fails the step that needs it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../electron/engine/settings/paths';
import { screenshot, screenTitle, step, until, useStudio } from './harness';

const SAMPLE = join(appRoot(), 'resources', 'samples', 'patterns');
/** Tab presses a search may take before it gives up (the longest screen has fewer stops). */
const MAX_TABS = 120;

/** The accessible name of the focused element, roughly as a screen reader computes it. */
async function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return '';
    const labelled = el.getAttribute('aria-labelledby');
    if (labelled) return document.getElementById(labelled)?.textContent?.trim() ?? '';
    const label = el.getAttribute('aria-label');
    if (label) return label;
    const own = (el as HTMLInputElement).labels?.[0]?.textContent;
    return (own ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
  });
}

/** Presses Tab (or Shift+Tab) until the focused element's name matches; returns how many presses it took. */
async function tabTo(page: Page, name: string | RegExp, backwards = false): Promise<number> {
  const matches = (n: string) => (typeof name === 'string' ? n === name : name.test(n));
  for (let i = 1; i <= MAX_TABS; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    if (matches(await focusedName(page))) return i;
  }
  throw new Error(`"${String(name)}" cannot be reached with ${backwards ? 'Shift+' : ''}Tab`);
}

/** Replaces the focused field's text by typing. */
async function typeInto(page: Page, text: string): Promise<void> {
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

describe('the core flow by keyboard alone', () => {
  const studio = useStudio();

  it('creates, imports, learns, reads the results and exports without a mouse', { timeout: 600_000 }, async () => {
    expect(existsSync(SAMPLE), `the sample dataset ${SAMPLE} is missing`).toBe(true);
    const classes = readdirSync(SAMPLE, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    const { page, pageErrors } = await studio.open({ width: 1024, height: 640 });

    await step(page, 'the skip link is the first Tab stop and skips the navigation', async () => {
      await page.keyboard.press('Tab');
      expect(await focusedName(page)).toBe('Skip to content');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
      // The next stop is the screen's first control, not the sidebar's.
      await page.keyboard.press('Tab');
      expect(await focusedName(page)).toBe('Project name');
      expect(await page.title()).toBe('Projects · CoOp Studio');
    });

    await step(page, 'create a project', async () => {
      await page.keyboard.type('Keyboard patterns');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor({ timeout: 15_000 });
      // Focus went to the new screen's heading; the tab's title names the screen and the project.
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Dataset');
      expect(await page.title()).toBe('Dataset · Keyboard patterns · CoOp Studio');
    });

    await step(page, 'import a folder with Choose folder', async () => {
      await tabTo(page, 'Choose folder');
      // One rendered frame between the focus and the key: pressed at once, headless Chromium sometimes opened no
      // dialog (1 run in 4 here, every other check in order: focus on the enabled button, the input present).
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
      const chooser = page.waitForEvent('filechooser', { timeout: 30_000 });
      await page.keyboard.press('Enter');
      // Loud on failure: what had focus and whether the folder input was there when the dialog did not open.
      const opened = await chooser.catch(async (e: unknown) => {
        const state = await page.evaluate(() => ({
          focused: document.activeElement?.textContent?.trim() ?? null,
          disabled: (document.activeElement as HTMLButtonElement | null)?.disabled ?? null,
          folderInputs: document.querySelectorAll('input[type=file][webkitdirectory]').length,
        }));
        throw new Error(`no file chooser after Enter on Choose folder (${JSON.stringify(state)}): ${String(e)}`);
      });
      await opened.setFiles(SAMPLE);
      const list = page.getByRole('list', { name: 'Classes' });
      await until(
        page,
        `${classes} classes`,
        async () => (await list.getByRole('listitem').count()) === classes,
        120_000,
      );
      await screenshot(page, 'keyboard-01-dataset');
    });

    await step(page, 'learn a prompt', async () => {
      await tabTo(page, 'Continue to Learn');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Learn' }).waitFor();
      await until(
        page,
        'the demo model',
        async () => ((await page.getByLabel('Model').textContent()) ?? '').includes('demo-clip'),
        15_000,
      );
      await tabTo(page, 'Shots');
      await typeInto(page, '4');
      await tabTo(page, 'Epochs');
      await typeInto(page, '3');
      await tabTo(page, 'Learn prompt');
      await page.keyboard.press('Enter');
      await until(page, 'the Results screen', async () => (await screenTitle(page)) === 'Results', 300_000);
      await page.getByLabel('Test accuracy').waitFor();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Results');
    });

    await step(page, 'the confusion matrix is one Tab stop with arrow keys inside', async () => {
      await tabTo(page, /images predicted as/);
      const first = await focusedName(page);
      expect(first).toMatch(/^\d+ \S+ images predicted as /);
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      const moved = await focusedName(page);
      expect(moved).not.toBe(first);
      expect(moved).toMatch(/images predicted as/);
      // Enter opens the cell; Escape closes it and focus comes back to the cell.
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      expect(await dialog.getByRole('heading').textContent()).toContain('predicted as');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(await focusedName(page)).toBe(moved);
      // One Tab leaves the matrix: the next stop is not another cell.
      await page.keyboard.press('Tab');
      expect(await focusedName(page)).not.toMatch(/images predicted as/);
      await screenshot(page, 'keyboard-02-results', { fullPage: false });
    });

    await step(page, 'export the learned context', async () => {
      await tabTo(page, 'Export', true);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Export' });
      await dialog.waitFor();
      expect(await focusedName(page)).toMatch(/^Context file/);
      await tabTo(page, 'Export folder');
      await typeInto(page, join(studio.served.dataDir, 'keyboard export'));
      await tabTo(page, 'Save export');
      await page.keyboard.press('Enter');
      const files = dialog.getByRole('list', { name: 'Exported files' });
      await until(page, 'the exported files', async () => (await files.getByRole('listitem').count()) > 0, 60_000);
      const written = (await files.getByRole('listitem').allTextContents()).map((t) => t.trim());
      const context = written.find((f) => f.endsWith('.safetensors')) ?? '';
      expect(existsSync(context), `exported context file ${context}`).toBe(true);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(await focusedName(page)).toBe('Export');
    });

    expect(pageErrors).toEqual([]);
  });
});
