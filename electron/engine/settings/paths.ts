/**
 * @file Where things live on disk (engine, plain Node).
 *
 * [Note: data folder] The data folder defaults to the OS user-data location (the same folder
 * Electron's `app.getPath('userData')` uses for the app name) and is overridden by the
 * `COOP_STUDIO_DATA_DIR` environment variable; tests set a fresh one each. A user can move it (see
 * [Note: data folder location]).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLocationPointer } from './data-location';

const APP_DIR_NAME = 'CoOp Studio';

/** The default data folder of this OS (Electron's userData for our app name). */
export function defaultDataDir(platform: NodeJS.Platform = process.platform, env = process.env): string {
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return join(env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), APP_DIR_NAME);
}

/** The data folder in force: `COOP_STUDIO_DATA_DIR`, else where the user moved it, else the OS default. */
export function dataDir(env = process.env): string {
  const fromEnv = env['COOP_STUDIO_DATA_DIR'];
  if (fromEnv && fromEnv.length > 0) return resolve(fromEnv);
  const def = defaultDataDir(process.platform, env);
  return readLocationPointer(def) ?? def;
}

let cachedRoot: string | undefined;

/**
 * The app's root folder (the one holding our package.json), found by walking up from this file,
 * so that it is the same from TypeScript sources (tests), the esbuild bundle in `dist/` and an asar.
 */
export function appRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'coop-studio') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the coop-studio package root.');
    dir = parent;
  }
}

/** The bundled resources folder (demo model, sample data, icons). */
export function resourcesDir(): string {
  return join(appRoot(), 'resources');
}

/** The embedded demo model's folder, the default of every `--model` option. */
export function demoModelDir(): string {
  return join(resourcesDir(), 'models', 'demo-clip');
}

/** The app's package.json version. */
export function appVersion(): string {
  return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
