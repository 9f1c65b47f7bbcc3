import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot, serve, type Served } from './harness';

describe('app shell in web mode', () => {
  let served: Served;
  let browser: Browser;

  beforeAll(async () => {
    served = await serve();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('refuses the page without the token', async () => {
    const r = await fetch(served.origin + '/');
    expect(r.status).toBe(401);
  });

  it('opens the shell and shows live doctor data from the engine', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(served.url);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    for (const name of ['Projects', 'Dataset', 'Learn', 'Results', 'Models']) {
      await expect(page.getByRole('button', { name }).isVisible()).resolves.toBe(true);
    }
    const backends = page.getByRole('list', { name: 'tfjs backends' });
    await backends.waitFor();
    await expect(backends.textContent()).resolves.toContain('wasm');
    const providers = await page.getByRole('list', { name: 'ONNX Runtime providers' }).textContent();
    expect(providers).toContain('cpu');
    const facts = await page.getByLabel('System check').textContent();
    expect(facts).toContain(served.dataDir);
    await expect(page.getByLabel('Status').textContent()).resolves.toContain('Training backend: wasm');
    await screenshot(page, '01-shell');

    await page.getByRole('button', { name: 'Models' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Models');
    expect(errors).toEqual([]);
  });
});
