/**
 * @file E2E: a CSV list of path,label dropped in web mode (issue 14, item 2), in headless Chromium. Loose images and
 * the list that labels them are dropped together: the classes are the list's labels, an image the list does not name
 * waits in "Unassigned" (left out of training), and a row naming a file that was not dropped is reported as not found. Then a list dropped on
 * its own, naming nothing that exists, is a warning card that says nothing was imported.
 *
 * Controls are found by their accessible names only. See [Note: loud E2E failures] and [Note: no fixed sleeps] in
 * harness.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeColourDataset } from '../helpers/colour-images';
import { dropFiles, screenshot, step, until, useStudio, type DroppedFile } from './harness';

const work = mkdtempSync(join(tmpdir(), 'coop-csv-drop-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a CSV list dropped in web mode', () => {
  const studio = useStudio();

  it('labels the images dropped with it and reports what it could not import', { timeout: 300_000 }, async () => {
    // Two classes of 6 images, named without their class (flat names, as a camera writes them), plus one stray image.
    const groups = await writeColourDataset(join(work, 'made'), 7, 5, {
      classes: { red: [220, 30, 30], blue: [30, 40, 220] },
    });
    const images: DroppedFile[] = groups.flatMap((paths, c) =>
      paths.map((p, i) => ({ name: `IMG_${c}${i}_${basename(p)}`, bytes: readFileSync(p) })),
    );
    const stray = images.pop() as DroppedFile;
    const labelled = images.map((f) => `${f.name},${f.name.startsWith('IMG_0') ? 'ruby red' : 'deep blue'}`);
    const csv = ['path,label', ...labelled, 'IMG_missing.png,deep blue', ''].join('\n');
    const { page, pageErrors } = await studio.open({ width: 1024, height: 640 });
    const classRows = page.getByRole('list', { name: 'Classes' }).locator(':scope > li');

    await step(page, 'create a project', async () => {
      await page.getByLabel('Project name', { exact: true }).fill('Labelled by a list');
      await page.getByRole('button', { name: 'Create project' }).click();
      await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor({ timeout: 15_000 });
    });

    await step(page, 'drop the images with the list that labels them', async () => {
      // The list comes last, as a file manager may order it; the labels must win whatever the order.
      await dropFiles(page, 'Drop a dataset', [...images, stray, { name: 'labels.csv', bytes: Buffer.from(csv) }]);
      // The list's two labels are the classes; the image it does not name waits in "Unassigned", left out of training.
      await until(page, 'the classes of the list', async () => (await classRows.count()) === 3, 120_000);
      const names = await page
        .getByRole('list', { name: 'Classes' })
        .getByRole('textbox')
        .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
      expect(names.sort()).toEqual(['Unassigned', 'deep blue', 'ruby red']);
      const row = (name: string) =>
        classRows.filter({ has: page.getByLabel(`Class name ${name}`, { exact: true }) }).textContent();
      expect(await row('ruby red')).toContain('7 images');
      expect(await row('deep blue')).toContain('6 images');
      expect(await row('Unassigned')).toContain('1 image');
      const ready = page.getByRole('region', { name: /^Ready to learn/ });
      await ready.waitFor({ timeout: 30_000 });
      expect(await ready.textContent()).toContain('1 image without a class is left out');
      const report = page.getByRole('region', { name: 'Last import' });
      await report.waitFor({ timeout: 30_000 });
      expect(await report.textContent()).toContain('14 images imported into 3 new classes');
      const notImported = (await report.getByRole('list', { name: 'Files not imported' }).textContent()) ?? '';
      expect(notImported).toContain('IMG_missing.png: not found (a list names it, but there is no such file)');
      expect(notImported).not.toMatch(/\/tmp\/|uploads|ENOENT/);
      expect(await page.getByRole('heading', { name: '3 classes · 14 images' }).count()).toBe(1);
      await screenshot(page, 'csv-drop-01-labelled', { fullPage: false });
    });

    await step(page, 'drop a list that names nothing that was dropped', async () => {
      await dropFiles(page, 'Drop a dataset', [
        { name: 'other.csv', bytes: Buffer.from('path,label\nnowhere/a.png,cat\nnowhere/b.png,dog\n') },
      ]);
      const warning = page.getByRole('region', { name: 'Nothing was imported' });
      await warning.waitFor({ timeout: 60_000 });
      expect(await warning.textContent()).toContain('none of the 2 files the list names was found');
      expect(await warning.textContent()).toContain('nowhere/a.png: not found');
      expect(await classRows.count()).toBe(3);
      await screenshot(page, 'csv-drop-02-nothing', { fullPage: false });
    });

    expect(pageErrors).toEqual([]);
  });
});
