/**
 * @file The application menu and the desktop handlers with Electron mocked (no Electron binary needed).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DOWNLOADS_FOLDER, downloadUrl } from '../../shared/files';

const built: { template: Electron.MenuItemConstructorOptions[] } = { template: [] };
const calls: string[] = [];
/** Where the mocked save dialog says to save (null: the user cancels). */
const saveTo: { path: string | null } = { path: null };
vi.mock('electron', () => ({
  Menu: {
    buildFromTemplate: (template: Electron.MenuItemConstructorOptions[]) => {
      built.template = template;
      return {};
    },
    setApplicationMenu: () => {},
  },
  dialog: {
    // Called as (window, options) or, without a window, (options).
    showOpenDialog: async (a: unknown, b?: Electron.OpenDialogOptions) => {
      const o = b ?? (a as Electron.OpenDialogOptions);
      calls.push(`open:${(o.properties ?? []).join(',')}`);
      return { canceled: false, filePaths: ['/picked'] };
    },
    showSaveDialog: async (a: unknown, b?: Electron.SaveDialogOptions) => {
      const o = b ?? (a as Electron.SaveDialogOptions);
      calls.push(`save:${o.defaultPath ?? ''}`);
      return saveTo.path ? { canceled: false, filePath: saveTo.path } : { canceled: true, filePath: '' };
    },
  },
  shell: {
    openExternal: async (url: string) => {
      calls.push(`external:${url}`);
    },
    showItemInFolder: () => {},
  },
}));

const { installMenu } = await import('./menu');
const { desktopHandlers } = await import('./desktop-handlers');

describe('application menu', () => {
  it('offers Open Project, Import Dataset and Export, and forwards them to the window', () => {
    const sent: unknown[] = [];
    const win = { webContents: { send: (channel: string, command: unknown) => sent.push([channel, command]) } };
    installMenu(() => win as never);
    const file = built.template.find((m) => m.label === 'File');
    const items = (file?.submenu as Electron.MenuItemConstructorOptions[]).filter((i) => i.label);
    expect(items.map((i) => [i.label, i.accelerator])).toEqual([
      ['Open Project…', 'CmdOrCtrl+O'],
      ['Import Dataset…', 'CmdOrCtrl+I'],
      ['Export…', 'CmdOrCtrl+E'],
      ['Settings…', 'CmdOrCtrl+,'],
    ]);
    for (const i of items) (i.click as () => void)();
    expect(sent).toEqual([
      ['menu:command', 'open-project'],
      ['menu:command', 'import-dataset'],
      ['menu:command', 'export'],
      ['menu:command', 'settings'],
    ]);
    expect(built.template.map((m) => m.role).filter(Boolean)).toEqual(
      expect.arrayContaining(['editMenu', 'viewMenu', 'windowMenu']),
    );
  });
});

describe('desktop handlers', () => {
  const ctx = { progress: () => {}, signal: new AbortController().signal };
  const data = mkdtempSync(join(tmpdir(), 'coop-desktop-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));
  const h = desktopHandlers(() => null, data);

  it('opens native dialogs and returns the chosen paths', async () => {
    expect(await h.openFolderDialog({ title: 'Pick', multiple: true }, ctx)).toEqual({ paths: ['/picked'] });
    expect(await h.saveFileDialog({ title: 'Save', defaultName: 'x.onnx' }, ctx)).toEqual({ path: null });
    expect(calls).toContain('open:openDirectory,multiSelections');
  });

  it('opens only allow-listed links, even when called past the IPC layer', async () => {
    await expect(h.openExternal({ url: 'https://evil.example/' }, ctx)).rejects.toMatchObject({ code: 'unauthorized' });
    expect(await h.openExternal({ url: 'https://arxiv.org/abs/2109.01134' }, ctx)).toEqual({ opened: true });
    expect(calls.filter((c) => c.startsWith('external:'))).toEqual(['external:https://arxiv.org/abs/2109.01134']);
  });

  it('saves a prepared download where the save dialog says, and nothing but a prepared download', async () => {
    const id = 'a'.repeat(32);
    mkdirSync(join(data, DOWNLOADS_FOLDER, id), { recursive: true });
    writeFileSync(join(data, DOWNLOADS_FOLDER, id, 'Shapes-run3-onnx.zip'), 'zip bytes');
    const url = downloadUrl(id, 'Shapes-run3-onnx.zip');
    saveTo.path = null;
    expect(await h.saveDownload({ url, title: 'Save' }, ctx)).toEqual({ path: null });
    expect(calls).toContain('save:Shapes-run3-onnx.zip');
    saveTo.path = join(data, 'chosen.zip');
    expect(await h.saveDownload({ url, title: 'Save' }, ctx)).toEqual({ path: saveTo.path });
    expect(readFileSync(saveTo.path, 'utf8')).toBe('zip bytes');
    for (const bad of ['/etc/passwd', `/download/${id}/../../x`, '/download/%E0%A4%A', `/thumbs/${id}/a.zip`]) {
      await expect(h.saveDownload({ url: bad, title: 'Save' }, ctx)).rejects.toMatchObject({ code: 'bad_args' });
    }
    await expect(
      h.saveDownload({ url: downloadUrl('b'.repeat(32), 'gone.zip'), title: 'Save' }, ctx),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(existsSync(join(data, 'gone.zip'))).toBe(false);
  });
});
