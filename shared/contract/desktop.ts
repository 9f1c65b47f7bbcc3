/**
 * @file Contract of the desktop-only operations served by the Electron main process (pure TypeScript).
 *
 * These need the OS (native dialogs, the system browser), so the main process answers them, not
 * the engine. They go through the same typed wrapper as the engine channel: sender validated,
 * arguments parsed with these schemas. In web mode they do not exist; the UI offers uploads instead.
 */
import { z } from 'zod';
import { op, type HandlersFor } from './define';

/** Hosts `shell.openExternal` may open; everything else is refused. */
export const EXTERNAL_URL_ALLOW_LIST = ['https://huggingface.co', 'https://github.com', 'https://arxiv.org'] as const;

/** Desktop operations. */
export const desktopOps = {
  openFolderDialog: op<{ paths: string[] }>()(
    z.object({ title: z.string().max(200).default('Choose a folder'), multiple: z.boolean().default(false) }),
    'Native dialog to choose one or more folders.',
  ),
  openFileDialog: op<{ paths: string[] }>()(
    z.object({
      title: z.string().max(200).default('Choose files'),
      extensions: z
        .array(z.string().regex(/^[a-z0-9]{1,8}$/))
        .max(20)
        .default([]),
      multiple: z.boolean().default(true),
    }),
    'Native dialog to choose files.',
  ),
  saveFileDialog: op<{ path: string | null }>()(
    z.object({ title: z.string().max(200).default('Save'), defaultName: z.string().max(255).default('') }),
    'Native dialog to choose where to save a file.',
  ),
  saveDownload: op<{ path: string | null }>()(
    z.object({
      /** The URL path `prepareDownload` answered (`/download/<id>/<name>`): only a prepared download can be saved. */
      url: z.string().min(1).max(400),
      title: z.string().max(200).default('Save'),
    }),
    'Native save dialog for a prepared download, then a copy of it where the user chose (null when cancelled).',
  ),
  openExternal: op<{ opened: boolean }>()(
    z.object({ url: z.string().url() }),
    'Open an allow-listed URL in the system browser.',
  ),
  showItemInFolder: op<{ shown: boolean }>()(
    z.object({ path: z.string().min(1) }),
    'Reveal a file in the OS file manager.',
  ),
};

/** The main process's table of desktop handlers. */
export type DesktopHandlers = HandlersFor<typeof desktopOps>;

/** True when `url` may be opened in the system browser. */
export function isAllowedExternalUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && EXTERNAL_URL_ALLOW_LIST.some((allowed) => u.origin === allowed);
  } catch {
    return false;
  }
}
