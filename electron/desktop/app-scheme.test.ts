import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appPageUrl, isAppPageUrl, navigationAllowed, resolveAppUrl } from './app-scheme';

const base = mkdtempSync(join(tmpdir(), 'coop-app-scheme-'));
const roots = { renderer: join(base, 'renderer'), compute: join(base, 'compute') };
mkdirSync(join(roots.renderer, 'assets'), { recursive: true });
mkdirSync(roots.compute, { recursive: true });
writeFileSync(join(roots.renderer, 'index.html'), 'ui');
writeFileSync(join(roots.renderer, 'assets', 'app.js'), 'js');
writeFileSync(join(roots.compute, 'index.html'), 'compute');
writeFileSync(join(base, 'secret.txt'), 'secret');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('the app: scheme', () => {
  it('names each bundle on its own host', () => {
    expect(appPageUrl('renderer')).toBe('app://renderer/index.html');
    expect(appPageUrl('compute')).toBe('app://compute/index.html');
  });

  it("serves a bundle's files by exact path with their MIME type", () => {
    expect(resolveAppUrl('app://renderer/index.html', roots)).toEqual({
      file: join(roots.renderer, 'index.html'),
      mime: 'text/html; charset=utf-8',
    });
    expect(resolveAppUrl('app://renderer/', roots)?.file).toBe(join(roots.renderer, 'index.html'));
    expect(resolveAppUrl('app://renderer/assets/app.js?v=1#x', roots)?.mime).toMatch(/javascript/);
    expect(resolveAppUrl('app://compute/index.html', roots)?.file).toBe(join(roots.compute, 'index.html'));
  });

  it('refuses other schemes, hosts, traversal and odd names', () => {
    for (const url of [
      'file:///etc/passwd',
      'app://other/index.html',
      'app://renderer/..%2fsecret.txt',
      'app://renderer/%2e%2e/secret.txt',
      'app://renderer/assets/..%5c..%5csecret.txt',
      'app://renderer/a%00.html',
      'app://renderer/%E0%A4%A',
      'app://renderer/assets/app.unknown',
      'not a url',
    ])
      expect(resolveAppUrl(url, roots), url).toBeNull();
  });

  it('allows navigation only to our page on the origin a frame is on', () => {
    const ui = 'app://renderer/index.html';
    expect(navigationAllowed(ui, ui)).toBe(true);
    expect(navigationAllowed(`${ui}?project=3#results`, ui)).toBe(true);
    expect(navigationAllowed('app://compute/index.html', ui)).toBe(false);
    expect(navigationAllowed('app://renderer/assets/app.js', ui)).toBe(false);
    expect(navigationAllowed('https://evil.example/', ui)).toBe(false);
    expect(navigationAllowed('file:///opt/coop/dist/renderer/index.html', ui)).toBe(false);
    expect(navigationAllowed(ui, 'about:blank')).toBe(false);
    expect(isAppPageUrl(ui, 'renderer')).toBe(true);
    expect(isAppPageUrl(ui, 'compute')).toBe(false);
  });
});
