/**
 * @file The application menu and the desktop handlers with Electron mocked (no Electron binary needed).
 */
import { describe, expect, it, vi } from 'vitest';

const built: { template: Electron.MenuItemConstructorOptions[] } = { template: [] };
const calls: string[] = [];
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
    showSaveDialog: async () => ({ canceled: true, filePath: '' }),
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
  const h = desktopHandlers(() => null);

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
});
