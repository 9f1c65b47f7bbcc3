/**
 * @file Desktop operations answered by the main process: native dialogs, external links (Electron main).
 */
import { type BrowserWindow, dialog, shell } from 'electron';
import { isAllowedExternalUrl, type DesktopHandlers } from '../../shared/contract/desktop';
import { AppError } from '../../shared/result';

/** Builds the desktop handler table for a window. */
export function desktopHandlers(getWindow: () => BrowserWindow | null): DesktopHandlers {
  const parent = () => getWindow() ?? undefined;
  return {
    async openFolderDialog({ title, multiple }) {
      const options = {
        title,
        properties: ['openDirectory', ...(multiple ? (['multiSelections'] as const) : [])],
      } as Electron.OpenDialogOptions;
      const w = parent();
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return { paths: r.canceled ? [] : r.filePaths };
    },
    async openFileDialog({ title, extensions, multiple }) {
      const options: Electron.OpenDialogOptions = {
        title,
        properties: ['openFile', ...(multiple ? (['multiSelections'] as const) : [])],
        ...(extensions.length ? { filters: [{ name: 'Supported files', extensions }] } : {}),
      };
      const w = parent();
      const r = w ? await dialog.showOpenDialog(w, options) : await dialog.showOpenDialog(options);
      return { paths: r.canceled ? [] : r.filePaths };
    },
    async saveFileDialog({ title, defaultName }) {
      const options: Electron.SaveDialogOptions = { title, defaultPath: defaultName };
      const w = parent();
      const r = w ? await dialog.showSaveDialog(w, options) : await dialog.showSaveDialog(options);
      return { path: r.canceled || !r.filePath ? null : r.filePath };
    },
    async openExternal({ url }) {
      if (!isAllowedExternalUrl(url)) throw new AppError('unauthorized', `Links to ${url} are not opened by the app.`);
      await shell.openExternal(url);
      return { opened: true };
    },
    async showItemInFolder({ path }) {
      shell.showItemInFolder(path);
      return { shown: true };
    },
  };
}
