/**
 * @file E2E: the flow a new user walks with their own data, in web mode (issue 14): a 5-class x 20-image dataset made
 * by the test, dropped as a .zip; a class renamed; a class added and two images moved into it; Learn with the
 * defaults; the renamed name on Results; an earlier run opened; reload and Back keep the place; the context, the ONNX
 * classifier and the project downloaded as files by the browser; the downloaded classifier loaded in plain
 * onnxruntime-node with the same top-1 as the app (Node test runner driving headless Chromium).
 *
 * Controls are found by their accessible names only. See [Note: loud E2E failures] and [Note: no fixed sleeps] in
 * harness.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import type { Download, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from '../../electron/engine/clip/model-folder';
import { preprocessImage } from '../../electron/engine/clip/preprocess';
import { decodeSafetensors } from '../../electron/engine/formats/tensor-files';
import { decodeModel } from '../../electron/engine/onnx/onnx-proto';
import { demoModelDir } from '../../electron/engine/settings/paths';
import { writeColourDataset } from '../helpers/colour-images';
import { checkPage } from './axe';
import { dropFiles, screenshot, screenTitle, step, until, useStudio } from './harness';

/** Five colour classes any CLIP-like encoder can tell apart, 20 images each (made by the test, never a fixture). */
const CLASSES: Record<string, [number, number, number]> = {
  red_thing: [220, 30, 30],
  green_thing: [30, 200, 40],
  blue_thing: [30, 40, 220],
  yellow_thing: [230, 220, 40],
  purple_thing: [140, 40, 200],
};
const PER_CLASS = 20;
const PROJECT = 'My colours';
const RENAMED = 'crimson';
const ADDED = 'lime';
/** Window sizes people use: a laptop and a small one. */
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 640 },
];

const work = mkdtempSync(join(tmpdir(), 'coop-own-data-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The dataset as a zip of class folders, and the image files by class. */
async function makeDataset(): Promise<{ zip: Buffer; files: Record<string, string[]> }> {
  const root = join(work, 'colours');
  const groups = await writeColourDataset(root, PER_CLASS, 7, { classes: CLASSES });
  const names = Object.keys(CLASSES);
  const entries: Record<string, Uint8Array> = {};
  const files: Record<string, string[]> = {};
  groups.forEach((paths, c) => {
    const cls = names[c] ?? '';
    files[cls] = paths;
    for (const p of paths) entries[`${cls}/${p.split('/').pop() ?? ''}`] = readFileSync(p);
  });
  return { zip: Buffer.from(zipSync(entries)), files };
}

/** Chooses a format in the Export dialog, downloads it, and returns the browser's download. */
async function download(page: Page, format: RegExp): Promise<{ download: Download; path: string }> {
  const dialog = page.getByRole('dialog', { name: 'Export' });
  await dialog.getByRole('radio', { name: format }).check();
  const [d] = await Promise.all([
    page.waitForEvent('download', { timeout: 180_000 }),
    dialog.getByRole('button', { name: 'Download' }).click(),
  ]);
  const path = join(work, 'downloads', d.suggestedFilename());
  mkdirSync(join(work, 'downloads'), { recursive: true });
  await d.saveAs(path);
  return { download: d, path };
}

/** Fails on serious or critical axe violations of what is on screen now (the new cards and dialogs of issue 14). */
async function noSeriousViolations(page: Page, where: string): Promise<void> {
  const bad = (await checkPage(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `axe on ${where}: ${bad.map((v) => `${v.id} (${v.targets.join(', ')})`).join('; ')}`).toEqual([]);
}

/** The files of a download: the zip's entries, or the one file itself. */
function filesOf(path: string, name: string): Record<string, Uint8Array> {
  const bytes = new Uint8Array(readFileSync(path));
  return name.endsWith('.zip') ? unzipSync(bytes) : { [name]: bytes };
}

describe('the flow a new user walks with their own data (web mode)', () => {
  const studio = useStudio();

  it(
    'imports a dropped zip, edits classes, learns, shows every run and downloads the exports',
    { timeout: 900_000 },
    async () => {
      const { zip, files } = await makeDataset();
      const { page, pageErrors } = await studio.open(SIZES[0]);
      const classList = page.getByRole('list', { name: 'Classes' });
      const classRows = classList.locator(':scope > li');

      await step(page, 'create a project', async () => {
        await page.getByLabel('Project name', { exact: true }).fill(PROJECT);
        await page.getByRole('button', { name: 'Create project' }).click();
        await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor({ timeout: 15_000 });
      });

      await step(page, 'drop the dataset as a .zip', async () => {
        await dropFiles(page, 'Drop a dataset', [{ name: 'colours.zip', bytes: zip, type: 'application/zip' }]);
        await until(page, 'five imported classes', async () => (await classRows.count()) === 5, 120_000);
        expect(await page.getByRole('heading', { name: `5 classes · ${5 * PER_CLASS} images` }).count()).toBe(1);
        // Ready before Learn: 16 shots asked for, 8 taken so that every class keeps a test set (the engine's rule).
        const ready = page.getByRole('region', { name: /^Ready to learn/ });
        await ready.waitFor({ timeout: 30_000 });
        expect(await ready.textContent()).toMatch(/8 shots/);
        for (const size of SIZES) {
          await page.setViewportSize(size);
          await screenshot(page, `own-data-01-dataset-${size.width}`, { fullPage: false });
        }
        await page.setViewportSize(SIZES[0]!);
      });

      await step(page, 'rename a class', async () => {
        const input = page.getByLabel('Class name red thing', { exact: true });
        await input.fill(RENAMED);
        await input.press('Enter');
        await page.getByRole('button', { name: `Undo rename class "red thing" to "${RENAMED}"` }).waitFor();
      });

      await step(page, 'add a class and move two images into it', async () => {
        await page.getByLabel('New class name').fill(ADDED);
        await page.getByRole('button', { name: 'Add class' }).click();
        await until(page, 'the added class', async () => (await classRows.count()) === 6, 15_000);
        for (const n of [0, 1]) {
          await page
            .getByRole('button', { name: new RegExp(`^Preview .* of green thing$`) })
            .first()
            .click();
          const dialog = page.getByRole('dialog');
          await dialog.waitFor();
          expect(
            n === 0 ? await dialog.getByRole('button', { name: 'Exclude from training and testing' }).count() : 1,
          ).toBe(1);
          await dialog.getByLabel('Move to class').selectOption({ label: ADDED });
          await dialog.getByRole('button', { name: 'Move image' }).click();
          await page.getByRole('button', { name: `Undo move 1 image to "${ADDED}"` }).waitFor();
          if (n === 1) {
            await screenshot(page, 'own-data-02-preview', { fullPage: false });
            await noSeriousViolations(page, 'the image preview');
          }
          await dialog.getByRole('button', { name: 'Close' }).click();
          await dialog.waitFor({ state: 'hidden' });
        }
        const added = classRows.filter({ has: page.getByLabel(`Class name ${ADDED}`, { exact: true }) });
        expect(await added.textContent()).toContain('2 images');
        expect(
          await classRows.filter({ has: page.getByLabel('Class name green thing', { exact: true }) }).textContent(),
        ).toContain(`${PER_CLASS - 2} images`);
      });

      const learnOnce = async (name: string) =>
        step(page, name, async () => {
          await page.getByRole('button', { name: 'Learn', exact: true }).click();
          await page.getByRole('heading', { level: 1, name: 'Learn' }).waitFor();
          await until(
            page,
            'the demo model in the model list',
            async () => ((await page.getByLabel('Model').textContent()) ?? '').includes('demo-clip'),
            15_000,
          );
          await page.getByRole('button', { name: 'Learn prompt' }).click();
          await until(page, 'the Results screen', async () => (await screenTitle(page)) === 'Results', 420_000);
        });

      await learnOnce('learn a prompt with the defaults');
      const firstRun = await step(page, 'see the renamed and the added class on Results', async () => {
        const shown = (await page.getByLabel('Run shown').textContent()) ?? '';
        const runId = Number(/run (\d+)/.exec(shown)?.[1]);
        expect(shown).toMatch(/8 shots.*\(16 asked for\)/);
        const perClass = (await page.getByRole('list', { name: 'Per-class accuracy' }).textContent()) ?? '';
        expect(perClass).toContain(RENAMED);
        expect(perClass).toContain(ADDED);
        expect(perClass).not.toMatch(/red.thing/);
        const matrix = page.getByRole('grid', { name: 'Confusion matrix' });
        expect(await matrix.textContent()).toContain(RENAMED);
        expect(await matrix.textContent()).not.toMatch(/red.thing/);
        // A cell of the renamed class opens its test images, named as renamed.
        await matrix
          .getByRole('button', { name: new RegExp(`^\\d+ ${RENAMED} images predicted as ${RENAMED}$`) })
          .click();
        const cell = page.getByRole('dialog');
        expect(await cell.getByRole('heading').textContent()).toContain(`${RENAMED} predicted as ${RENAMED}`);
        await cell.getByRole('button', { name: 'Close' }).click();
        expect(await page.getByRole('heading', { name: /^Misclassified test images/ }).count()).toBe(1);
        return runId;
      });

      // The app's own top-1 for three images, from Try it (the learned prompt's answer), by class.
      const tried: { path: string; answer: string }[] = [];
      await step(page, 'try images: the renamed name in Try it', async () => {
        // Three different file names, so that each answer on screen is told from the one before.
        for (const path of [files['red_thing']![19]!, files['blue_thing']![18]!, files['yellow_thing']![17]!]) {
          await page.getByLabel('Image to try').setInputFiles(path);
          const result = page.getByLabel('Try it result');
          const name = path.split('/').pop() ?? '';
          await until(
            page,
            `Try it on ${name}`,
            async () => (await result.getByRole('img', { name, exact: true }).count()) === 1,
            120_000,
          );
          const answer = ((await result.locator('dt:has-text("Learned prompt") + dd').textContent()) ?? '').trim();
          tried.push({ path, answer });
          expect(await result.getByRole('table', { name: 'Class probabilities' }).textContent()).toContain(RENAMED);
        }
      });

      await learnOnce('learn a second run');
      await step(page, 'open the earlier run from the runs list', async () => {
        const runs = page.getByRole('table', { name: 'Runs' });
        expect(await runs.locator('tbody tr').count()).toBe(2);
        await runs
          .getByRole('button', {
            name: new RegExp(`^Open Run ${firstRun} · CoOp · 8 shots · seed 1 · .* · \\d+\\.\\d%$`),
          })
          .click();
        await until(
          page,
          'the earlier run on Results',
          async () =>
            ((await page.getByLabel('Run shown').textContent()) ?? '').includes(`Earlier run: run ${firstRun}`),
          30_000,
        );
        await runs
          .getByRole('checkbox', { name: `Overlay the curve of run ${firstRun + 1} on the learning curve` })
          .check();
        await noSeriousViolations(page, 'Results with its runs');
        for (const size of SIZES) {
          await page.setViewportSize(size);
          await screenshot(page, `own-data-03-results-${size.width}`, { fullPage: false });
        }
        await page.setViewportSize(SIZES[0]!);
      });

      await step(page, 'a reload keeps the project, the screen and the run; Back moves between screens', async () => {
        expect(page.url()).toMatch(new RegExp(`#/results\\?project=\\d+&run=${firstRun}$`));
        await page.reload();
        await until(
          page,
          'the earlier run after the reload',
          async () =>
            (await page.getByLabel('Run shown').count()) === 1 &&
            ((await page.getByLabel('Run shown').textContent()) ?? '').includes(`run ${firstRun}`),
          30_000,
        );
        expect(await screenTitle(page)).toBe('Results');
        await page.getByRole('button', { name: 'Dataset', exact: true }).click();
        await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor();
        await page.goBack();
        await page.getByRole('heading', { level: 1, name: 'Results' }).waitFor();
        expect((await page.getByLabel('Run shown').textContent()) ?? '').toContain(`run ${firstRun}`);
        await page.goForward();
        await page.getByRole('heading', { level: 1, name: 'Dataset' }).waitFor();
        await page.goBack();
        await page.getByRole('heading', { level: 1, name: 'Results' }).waitFor();
      });

      await step(page, 'download the context file', async () => {
        await page.getByRole('button', { name: 'Export', exact: true }).click();
        const { download: d, path } = await download(page, /^Context file/);
        expect(d.suggestedFilename()).toMatch(new RegExp(`^My colours-run${firstRun}-`));
        const inside = filesOf(path, d.suggestedFilename());
        const context = Object.entries(inside).find(([n]) => n.endsWith('.safetensors'));
        expect(context, `a .safetensors file in ${Object.keys(inside).join(', ')}`).toBeDefined();
        const st = decodeSafetensors(Buffer.from(context![1]));
        expect(st.tensors.length).toBeGreaterThan(0);
        expect(JSON.stringify(st.metadata)).toContain(RENAMED);
        const dialog = page.getByRole('dialog', { name: 'Export' });
        expect(await dialog.getByText(`Downloaded ${d.suggestedFilename()}`).count()).toBe(1);
        expect(await dialog.getByRole('button', { name: 'Copy path' }).count()).toBe(1);
        await noSeriousViolations(page, 'the Export dialog after a download');
      });

      await step(page, 'download the ONNX classifier and run it in plain onnxruntime-node', async () => {
        const { download: d, path } = await download(page, /^ONNX classifier/);
        await screenshot(page, 'own-data-04-export', { fullPage: false });
        const inside = filesOf(path, d.suggestedFilename());
        const onnx = Object.entries(inside).find(([n]) => n.endsWith('.onnx'));
        expect(onnx, `an .onnx file in ${Object.keys(inside).join(', ')}`).toBeDefined();
        const session = await ort.InferenceSession.create(Buffer.from(onnx![1]));
        try {
          const props = decodeModel(Buffer.from(onnx![1])).metadataProps ?? [];
          const meta = JSON.parse(props.find((e) => e.key === 'class_names')?.value ?? '[]') as string[];
          expect(meta).toContain(RENAMED);
          expect(meta).toContain(ADDED);
          // Only the documented preprocessing comes from the app (the model's preprocessor_config.json).
          const info = await loadModelFolder(demoModelDir());
          for (const t of tried) {
            const pixels = await preprocessImage(t.path, info.preprocess);
            const out = await session.run({
              pixel_values: new ort.Tensor('float32', pixels, [
                1,
                3,
                info.preprocess.cropHeight,
                info.preprocess.cropWidth,
              ]),
            });
            const probs = Array.from(out['probs']!.data as Float32Array);
            const top = probs.indexOf(Math.max(...probs));
            expect(meta[top], `ONNX top-1 of ${t.path}`).toBe(t.answer);
          }
        } finally {
          await session.release();
        }
      });

      await step(page, 'download the project', async () => {
        await page.getByRole('dialog', { name: 'Export' }).getByRole('button', { name: 'Close' }).click();
        await page.getByRole('button', { name: 'Projects', exact: true }).click();
        const row = page.getByRole('table', { name: 'Projects' }).getByRole('row').filter({ hasText: PROJECT });
        await until(
          page,
          'the best run in the projects list',
          async () => /run \d+: CoOp · 8 shots · seed 1/.test((await row.textContent()) ?? ''),
          30_000,
        );
        const [d] = await Promise.all([
          page.waitForEvent('download', { timeout: 180_000 }),
          page.getByRole('button', { name: `Export ${PROJECT}` }).click(),
        ]);
        expect(d.suggestedFilename()).toMatch(/^My colours.*\.coopproj$/);
        const path = join(work, 'downloads', d.suggestedFilename());
        await d.saveAs(path);
        expect(readFileSync(path).length).toBeGreaterThan(PER_CLASS * 5 * 100);
        for (const size of SIZES) {
          await page.setViewportSize(size);
          await screenshot(page, `own-data-05-projects-${size.width}`, { fullPage: false });
        }
      });

      expect(readdirSync(join(work, 'downloads')).length).toBe(3);
      expect(pageErrors).toEqual([]);
    },
  );
});
