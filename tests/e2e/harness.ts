/**
 * @file E2E harness: starts `coop-studio serve` on a free port with a fresh data folder and drives Debian's headless
 * Chromium with playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { appRoot } from '../../electron/engine/paths';

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Flags that keep Chromium quiet on a machine with a closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** A running `coop-studio serve` with its data folder. */
export interface Served {
  url: string;
  origin: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts the real CLI's web mode and resolves with the printed URL. */
export async function serve(extraEnv: Record<string, string> = {}): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coop-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(appRoot(), 'bin', 'coop-studio.js'), 'serve', '--port', '0', '--json'],
    {
      env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const info = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line) as { url: string; origin: string });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${String(code)}: ${stderr}`)));
  });
  return {
    ...info,
    dataDir,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Launches headless Chromium; fails with a clear message when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run \`apt-get install -y chromium\` (.ci/run does).`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Saves a screenshot as a test artifact under test-results/screens/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = join(appRoot(), 'test-results', 'screens');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
