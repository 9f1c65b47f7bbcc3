/**
 * @file Desktop operations answered by the main process: native dialogs, saving prepared downloads, external links
 * (Electron main).
 *
 * [Note: desktop downloads] An export the engine prepared for download (see [Note: downloads] in
 * electron/engine/jobs/downloads.ts) is saved in the desktop app with the native save dialog: the page passes the
 * download's URL path, never a file path, and the main process copies `<data folder>/ready-downloads/<id>/<name>` to
 * where the user chose. So the page cannot make the main process copy any other file.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BrowserWindow, dialog, shell } from 'electron';
import { isAllowedExternalUrl, type DesktopHandlers } from '../../shared/contract/desktop';
import { DOWNLOADS_FOLDER, parseDownloadPath } from '../../shared/files';
import { AppError } from '../../shared/result';

/** Builds the desktop handler table for a window; `dataDir` is the data folder prepared downloads live in. */
export function desktopHandlers(getWindow: () => BrowserWindow | null, dataDir: string): DesktopHandlers {
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
    async saveDownload({ url, title }) {
      let rel = '';
      try {
        rel = url.startsWith('/download/') ? decodeURIComponent(url.slice('/download/'.length)) : '';
      } catch {
        // A malformed escape is no prepared download either.
      }
      const d = parseDownloadPath(rel);
      if (!d) throw new AppError('bad_args', 'That is not a prepared download.');
      const options: Electron.SaveDialogOptions = { title, defaultPath: d.fileName };
      const w = parent();
      const r = w ? await dialog.showSaveDialog(w, options) : await dialog.showSaveDialog(options);
      if (r.canceled || !r.filePath) return { path: null };
      try {
        await copyFile(join(dataDir, DOWNLOADS_FOLDER, d.id, d.fileName), r.filePath);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new AppError(
          code === 'ENOENT' ? 'not_found' : 'io_error',
          code === 'ENOENT'
            ? 'The prepared file is gone (downloads are kept a day): export it again.'
            : `The file could not be saved to ${r.filePath}: ${(e as Error).message}`,
        );
      }
      return { path: r.filePath };
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
