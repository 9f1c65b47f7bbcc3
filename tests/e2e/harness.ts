/**
 * @file E2E harness: starts `coop-studio serve` on a free port with a fresh data folder, drives Debian's headless
 * Chromium with playwright-core, and gives specs named steps that wait on visible state (Node test runner).
 *
 * [Note: loud E2E failures] The engine work lands in parallel, so every step is named and, when it fails, the error
 * says which step and quotes any error toast the UI showed (the engine's own sentence). Nothing is skipped.
 *
 * [Note: no fixed sleeps] Specs never sleep a fixed time: they wait for an element or poll a condition, and between
 * polls they wait for an error toast to appear (so a failure ends the wait at once instead of timing out).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { appRoot } from '../../electron/engine/settings/paths';

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
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const dir = join(appRoot(), 'test-results', 'screens');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}

/** A served app and a browser, set up once per spec file by {@link useStudio}. */
export interface Studio {
  served: Served;
  browser: Browser;
  /** Opens a fresh page on the app (a new context: fresh localStorage) and collects its uncaught errors. */
  open(viewport?: { width: number; height: number }): Promise<{ page: Page; pageErrors: string[] }>;
}

/** Registers hooks that start `coop-studio serve` and Chromium before the spec's tests and stop both after. */
export function useStudio(extraEnv: Record<string, string> = {}): Studio {
  let served: Served | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    served = await serve(extraEnv);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not running: useStudio's beforeAll failed`);
    return v;
  };
  return {
    get served() {
      return need(served, 'coop-studio serve');
    },
    get browser() {
      return need(browser, 'Chromium');
    },
    async open(viewport = { width: 1280, height: 900 }) {
      const page = await need(browser, 'Chromium').newPage({ viewport });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(need(served, 'coop-studio serve').url);
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      return { page, pageErrors };
    },
  };
}

/** The text of every error toast on screen, joined. */
export async function alerts(page: Page): Promise<string> {
  const texts = await page.getByRole('alert').allTextContents();
  return texts.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | ');
}

/** Runs one named step; on failure, names it and quotes the UI's error toasts (see [Note: loud E2E failures]). */
export async function step<T>(page: Page, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const shown = await alerts(page).catch(() => '');
    await screenshot(page, `failed-${name.replace(/[^\w-]+/g, '-')}`).catch(() => '');
    throw new Error(
      `Step "${name}" failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` +
        (shown ? `\nThe UI showed: ${shown}` : ''),
    );
  }
}

/** Waits for `cond`, failing early when an error toast appears (see [Note: no fixed sleeps]). */
export async function until(page: Page, what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    const shown = await alerts(page);
    if (shown) throw new Error(`while waiting for ${what}, the UI reported an error`);
    await page
      .getByRole('alert')
      .first()
      .waitFor({ timeout: 250 })
      .catch(() => undefined);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/** Screen heading text (the `h1`). */
export async function screenTitle(page: Page): Promise<string | null> {
  return page.getByRole('heading', { level: 1 }).textContent();
}

/** A file a spec drops: its name, bytes and (optionally) MIME type. */
export interface DroppedFile {
  name: string;
  bytes: Buffer;
  type?: string;
}

/**
 * Drops files on the region named `region` the way a browser drop of loose files does: a DataTransfer with the files
 * and no file-system entries (the renderer's file-list fallback).
 */
export async function dropFiles(page: Page, region: string, files: DroppedFile[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    (list) => {
      const dt = new DataTransfer();
      for (const { name, b64, type } of list) {
        const raw = atob(b64);
        const data = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) data[i] = raw.charCodeAt(i);
        dt.items.add(new File([data], name, type ? { type } : {}));
      }
      return dt;
    },
    files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64'), type: f.type ?? '' })),
  );
  await page.getByRole('region', { name: region }).dispatchEvent('drop', { dataTransfer });
}
