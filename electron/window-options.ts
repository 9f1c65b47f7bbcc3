/**
 * @file Security-relevant window options, kept apart so tests can check them without Electron.
 */

/** webPreferences every window of the app uses. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  nodeIntegration: false,
  sandbox: true,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
} as const;
