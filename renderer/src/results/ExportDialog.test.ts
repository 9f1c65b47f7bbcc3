import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { PreparedDownload } from '../../../shared/contract/downloads';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { learnResult } from '../testing/fixtures';
import { AppError } from '../../../shared/result';
import { errorToasts, fakePlatform, renderWithStudio, resetToasts } from '../testing/harness';
import ProjectsScreen from '../projects/ProjectsScreen.svelte';
import ExportDialog from './ExportDialog.svelte';

const prepared = (fileName: string, contents: string[]): PreparedDownload => ({
  fileName,
  url: `/download/${'c'.repeat(32)}/${encodeURIComponent(fileName)}`,
  path: `/data/ready-downloads/${'c'.repeat(32)}/${fileName}`,
  bytes: 2048,
  contents,
  export: contents.includes('classifier.onnx')
    ? { format: 'onnx', run: '/runs/3', files: contents, verification: { images: 4, agree: 4, maxLogitDiff: 1e-5 } }
    : null,
  expiresAt: 0,
});

function engineWithDownloads() {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 5 },
    { folderName: 'dogs', images: 5 },
  ]);
  return new FakeEngine({
    ...project.handlers(),
    prepareDownload: async (args, { progress }) => {
      progress({ kind: 'phase', message: 'Exporting' });
      if (args.kind === 'project') return prepared('Pets.coopproj', ['Pets.coopproj']);
      return args.format === 'onnx'
        ? prepared('Pets-run3-onnx.zip', ['classifier.onnx', 'preprocessor_config.json'])
        : prepared('Pets-run3-context.zip', ['context.safetensors', 'README.md']);
    },
  });
}

describe('exports reach the user', () => {
  beforeEach(resetToasts);

  it('web mode: every format downloads as one file, with the path to copy', async () => {
    const engine = engineWithDownloads();
    const platform = fakePlatform();
    const { user } = await renderWithStudio(ExportDialog, {
      engine,
      platform,
      props: { open: true, result: learnResult(), onclose: () => {} },
    });
    const dialog = screen.getByRole('dialog', { name: 'Export' });
    expect(within(dialog).queryByRole('button', { name: 'Save as…' })).toBeNull();
    await user.click(within(dialog).getByRole('button', { name: 'Download' }));
    await within(dialog).findByText('Pets-run3-context.zip');
    await user.click(within(dialog).getByRole('radio', { name: /^ONNX classifier/ }));
    await user.click(within(dialog).getByRole('button', { name: 'Download' }));
    await within(dialog).findByText('Pets-run3-onnx.zip');
    expect(engine.argsOf('prepareDownload')).toEqual([
      { kind: 'run', run: '/runs/3', format: 'context', model: '/models/demo-clip' },
      { kind: 'run', run: '/runs/3', format: 'onnx', model: '/models/demo-clip' },
    ]);
    expect(platform.downloads.map((d) => d.fileName)).toEqual(['Pets-run3-context.zip', 'Pets-run3-onnx.zip']);
    expect(dialog.textContent).toContain('It holds classifier.onnx, preprocessor_config.json.');
    expect(dialog.textContent).toContain('ONNX Runtime agrees with the app on 4 of 4 test images');
    expect(within(dialog).getByTestId('download-path').textContent).toBe(
      `/data/ready-downloads/${'c'.repeat(32)}/Pets-run3-onnx.zip`,
    );
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.click(within(dialog).getByRole('button', { name: 'Copy path' }));
    expect(writeText).toHaveBeenCalledWith(`/data/ready-downloads/${'c'.repeat(32)}/Pets-run3-onnx.zip`);
    expect(await within(dialog).findByRole('button', { name: 'Path copied' })).toBeTruthy();
  });

  it("keeps a failed export in the dialog, in the engine's words", async () => {
    const engine = engineWithDownloads();
    engine.on('prepareDownload', async () => {
      throw new AppError('invalid_data', 'The run folder /runs/3 has no context file.');
    });
    const { user } = await renderWithStudio(ExportDialog, {
      engine,
      props: { open: true, result: learnResult(), onclose: () => {} },
    });
    const dialog = screen.getByRole('dialog', { name: 'Export' });
    await user.click(within(dialog).getByRole('button', { name: 'Download' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(
      'The export failed: The run folder /runs/3 has no context file.',
    );
    expect(errorToasts()).toEqual([]);
  });

  it('desktop app: Save as… asks where with the save dialog, and says where it went', async () => {
    const platform = fakePlatform({
      transport: 'electron',
      desktop: { saveDownload: () => ({ path: '/home/me/Pets-run3-context.zip' }) },
    });
    const { user } = await renderWithStudio(ExportDialog, {
      engine: engineWithDownloads(),
      platform,
      props: { open: true, result: learnResult(), onclose: () => {} },
    });
    const dialog = screen.getByRole('dialog', { name: 'Export' });
    await user.click(within(dialog).getByRole('button', { name: 'Save as…' }));
    expect(
      await within(dialog).findByText('Saved Pets-run3-context.zip to /home/me/Pets-run3-context.zip.'),
    ).toBeTruthy();
    expect(platform.calls).toEqual([
      {
        op: 'saveDownload',
        args: { url: `/download/${'c'.repeat(32)}/Pets-run3-context.zip`, title: 'Save Pets-run3-context.zip' },
      },
    ]);
  });

  it('a project exports as one .coopproj download from the Projects list, which says which run is best', async () => {
    const engine = engineWithDownloads();
    const platform = fakePlatform();
    const project = new FakeProject('Pets', [{ folderName: 'cats', images: 5 }]);
    project.runs = [
      {
        id: 7,
        modelId: 'demo',
        method: 'kgcoop',
        seed: 2,
        shots: 8,
        status: 'done',
        backend: 'wasm',
        createdAt: 1,
        durationMs: 1,
        error: null,
        testAccuracy: 0.925,
        zeroShotAccuracy: 0.5,
      },
    ];
    engine.on('projectList', async () => ({ projects: [project.detail()] }));
    const { user, studio } = await renderWithStudio(ProjectsScreen, {
      engine,
      platform,
      setup: (s) => s.projects.load(),
    });
    const row = screen.getAllByRole('row').find((r) => r.textContent?.includes('Pets'))!;
    expect(row.textContent).toContain('92.5%');
    expect(row.textContent).toContain('run 7: KgCoOp · 8 shots · seed 2');
    await user.click(within(row).getByRole('button', { name: 'Export Pets' }));
    await vi.waitFor(() => expect(platform.downloads.map((d) => d.fileName)).toEqual(['Pets.coopproj']));
    expect(engine.argsOf('prepareDownload')).toEqual([{ kind: 'project', projectId: 1 }]);
    expect(studio.projects.exported?.path).toBe(`/data/ready-downloads/${'c'.repeat(32)}/Pets.coopproj`);
    expect(await screen.findByRole('button', { name: 'Copy path' })).toBeTruthy();
  });
});
