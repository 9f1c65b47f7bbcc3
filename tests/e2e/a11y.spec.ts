/**
 * @file E2E: axe-core on every screen and dialog of the studio, light and dark, at 1280x800 and 1024x640, with a
 * screenshot of each; fails on any serious or critical WCAG A/AA violation (Node test runner driving headless
 * Chromium). See [Note: axe sweep] in axe.ts.
 *
 * The states are reached with a real project: the sample dataset imported, a short run learned on the demo model,
 * a comparison of the cheap methods and an image tried, so that Results shows every card. The counts per screen are
 * written to test-results/a11y/axe-counts.md (and the violations to axe-violations.json) whether the test passes or
 * not.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../electron/engine/settings/paths';
import { blocking, checkPage, countsTable, type Checked } from './axe';
import { screenshot, step, until, useStudio } from './harness';

const SAMPLE = join(appRoot(), 'resources', 'samples', 'patterns');
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 640 },
] as const;
const THEMES = ['light', 'dark'] as const;

/** Checks the page as it is in both themes at both sizes, with a screenshot of each. */
async function sweep(page: Page, screen: string, checked: Checked[]): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      // Two frames: the theme's colours and the new layout are painted before axe reads them.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const violations = await checkPage(page);
      // A page wider than the window makes the whole screen scroll sideways (WCAG 1.4.10).
      const overflowPx = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      checked.push({ screen, theme, size: `${size.width}x${size.height}`, violations, overflowPx });
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, `a11y-${screen}-${theme}-${size.width}x${size.height}`);
    }
  }
}

const nav = (page: Page, name: string) => page.getByRole('button', { name, exact: true }).first().click();
const h1 = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor({ timeout: 15_000 });

describe('accessibility of every screen (axe-core)', () => {
  const studio = useStudio();

  it('has no serious or critical violation on any screen or dialog', { timeout: 900_000 }, async () => {
    const checked: Checked[] = [];
    const { page, pageErrors } = await studio.open({ width: 1280, height: 800 });
    const classes = readdirSync(SAMPLE, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    try {
      await step(page, 'first run: the screens without a project', async () => {
        await sweep(page, 'projects-first-run', checked);
        for (const [name, screen] of [
          ['Dataset', 'dataset-no-project'],
          ['Learn', 'learn-no-project'],
          ['Results', 'results-no-project'],
          ['Experiments', 'experiments-no-project'],
        ] as const) {
          await nav(page, name);
          await h1(page, name);
          await sweep(page, screen, checked);
        }
        await nav(page, 'Projects');
      });

      await step(page, 'a new project', async () => {
        await page.getByLabel('Project name', { exact: true }).fill('Patterns');
        await page.getByRole('button', { name: 'Create project' }).click();
        await h1(page, 'Dataset');
        await sweep(page, 'dataset-empty', checked);
      });

      const classList = page.getByRole('list', { name: 'Classes' });
      await step(page, 'the imported dataset', async () => {
        await page.getByLabel('Dataset folder').setInputFiles(SAMPLE);
        await until(
          page,
          'the imported classes',
          async () => (await classList.getByRole('listitem').count()) === classes,
          120_000,
        );
        await sweep(page, 'dataset', checked);
        await classList
          .getByRole('listitem')
          .first()
          .getByRole('button', { name: /^Show images/ })
          .click();
        await page
          .getByRole('list', { name: /^Images of / })
          .getByRole('button')
          .first()
          .waitFor();
        await sweep(page, 'dataset-gallery', checked);
        await classList
          .getByRole('listitem')
          .first()
          .getByRole('button', { name: /^Hide images/ })
          .click();
      });

      await step(page, 'learn', async () => {
        await nav(page, 'Learn');
        await h1(page, 'Learn');
        await until(
          page,
          'a model',
          async () => ((await page.getByLabel('Model').textContent()) ?? '').includes('demo-clip'),
          15_000,
        );
        await page.getByLabel('Shots').fill('4');
        await page.getByLabel('Context length').fill('0');
        await page.getByRole('button', { name: 'Learn prompt' }).click();
        await page.getByText('Context length must be at least 1.').waitFor();
        await sweep(page, 'learn-field-error', checked);
        await page.getByLabel('Context length').fill('16');
        await page.getByLabel('Epochs').fill('3');
        await sweep(page, 'learn', checked);
        await page.getByRole('button', { name: 'Learn prompt' }).click();
        await h1(page, 'Results');
        await page.getByLabel('Test accuracy').waitFor({ timeout: 300_000 });
      });

      await step(page, 'results with a comparison and a tried image', async () => {
        const card = page.getByRole('region', { name: 'Compare methods' });
        await card.getByLabel('Shots per class').fill('1');
        await card.getByLabel('Seeds').fill('1');
        await card.getByRole('button', { name: 'Compare methods', exact: true }).click();
        await card.getByRole('table', { name: 'Comparison table' }).waitFor({ timeout: 180_000 });
        const cls = readdirSync(SAMPLE).sort()[0] ?? '';
        const file = readdirSync(join(SAMPLE, cls)).sort()[0] ?? '';
        await page.getByLabel('Image to try').setInputFiles(join(SAMPLE, cls, file));
        await page.getByRole('table', { name: 'Class probabilities' }).waitFor({ timeout: 120_000 });
        await sweep(page, 'results', checked);
      });

      await step(page, 'the where-the-model-looks dialog', async () => {
        const card = page.getByRole('region', { name: 'Where the model looks' });
        await card.getByRole('button', { name: 'Show where the model looks' }).click();
        const dialog = page.getByRole('dialog', { name: /^Where the model looks: / });
        await dialog.waitFor();
        const maps = dialog.getByRole('img', { name: /^Similarity map of the / });
        await until(page, 'both maps', async () => (await maps.count()) === 2, 120_000);
        await sweep(page, 'dialog-where-the-model-looks', checked);
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
      });

      await step(page, 'the confusion-cell dialog', async () => {
        await page
          .getByRole('button', { name: /images predicted as/ })
          .first()
          .click();
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        await sweep(page, 'dialog-confusion-cell', checked);
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
      });

      await step(page, 'the export dialog', async () => {
        await page.getByRole('button', { name: 'Export', exact: true }).click();
        const dialog = page.getByRole('dialog', { name: 'Export' });
        await dialog.waitFor();
        await sweep(page, 'dialog-export', checked);
        await dialog.getByRole('button', { name: 'Save export' }).click();
        await dialog.getByRole('list', { name: 'Exported files' }).waitFor({ timeout: 60_000 });
        await sweep(page, 'dialog-export-done', checked);
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'hidden' });
      });

      await step(page, 'experiments: the form and a tiny sweep', async () => {
        await nav(page, 'Experiments');
        await h1(page, 'Experiments');
        await page.getByRole('radio', { name: /^Context length M/ }).check();
        await sweep(page, 'experiments', checked);
        await page.getByLabel('Context lengths M').fill('1');
        await page.getByLabel('Shots per class').fill('2');
        await page.getByLabel('Seeds').fill('1');
        await page.getByLabel('Epochs').fill('1');
        await page.getByRole('button', { name: 'Run experiment' }).click();
        await page.getByRole('table', { name: 'Experiment table' }).waitFor({ timeout: 300_000 });
        await sweep(page, 'experiments-result', checked);
      });

      await step(page, 'projects with a project, rename and delete dialogs', async () => {
        await nav(page, 'Projects');
        await h1(page, 'Projects');
        await until(
          page,
          'the run facts',
          async () => ((await page.getByRole('table', { name: 'Projects' }).textContent()) ?? '').includes('%'),
          30_000,
        );
        await sweep(page, 'projects', checked);
        await page.getByLabel('Project name', { exact: true }).fill('patterns');
        await page.getByRole('button', { name: 'Create project' }).click();
        await page.getByText('A project called "Patterns" already exists').waitFor();
        await sweep(page, 'projects-name-taken', checked);
        await page.getByLabel('Project name', { exact: true }).fill('');
        await page.getByRole('button', { name: 'Rename Patterns' }).click();
        const rename = page.getByRole('dialog', { name: 'Rename project' });
        await rename.waitFor();
        await sweep(page, 'dialog-rename-project', checked);
        await page.keyboard.press('Escape');
        await rename.waitFor({ state: 'hidden' });
        await page.getByRole('button', { name: 'Delete Patterns' }).click();
        const del = page.getByRole('dialog', { name: 'Delete project?' });
        await del.waitFor();
        await sweep(page, 'dialog-delete-project', checked);
        await page.keyboard.press('Escape');
        await del.waitFor({ state: 'hidden' });
      });

      await step(page, 'models and settings', async () => {
        await nav(page, 'Models');
        await h1(page, 'Models');
        await page.getByRole('table', { name: 'Installed models' }).waitFor();
        await sweep(page, 'models', checked);
        await nav(page, 'Settings');
        await h1(page, 'Settings');
        await sweep(page, 'settings', checked);
        await page.getByLabel('Download endpoint').fill('not a web address');
        await page.getByRole('button', { name: 'Save endpoint' }).click();
        await page.getByText('The download endpoint must be a web address').waitFor();
        await sweep(page, 'settings-field-error', checked);
      });
    } finally {
      const dir = join(appRoot(), 'test-results', 'a11y');
      mkdirSync(dir, { recursive: true });
      const table = countsTable(checked);
      writeFileSync(join(dir, 'axe-counts.md'), `${table}\n`);
      writeFileSync(join(dir, 'axe-violations.json'), JSON.stringify(checked, null, 2));
      console.log(`axe counts per screen (violating elements):\n${table}`);
    }
    expect(blocking(checked), 'serious or critical axe violations').toEqual([]);
    const wide = checked.filter((c) => c.overflowPx > 0);
    expect(
      wide.map((c) => `${c.screen} (${c.theme}, ${c.size}): ${c.overflowPx} px wider`),
      'pages wider than the window',
    ).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
