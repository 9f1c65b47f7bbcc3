import { describe, expect, it } from 'vitest';
import { isAllowedExternalUrl } from '../../shared/contract/desktop';
import {
  COMPUTE_WEB_PREFERENCES,
  DESKTOP_CSP,
  keepOnScreen,
  parseWindowState,
  SECURE_WEB_PREFERENCES,
} from './window-options';

describe('window security options', () => {
  it('isolates and sandboxes the renderer', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('gives the hidden compute window the same security flags', () => {
    expect(COMPUTE_WEB_PREFERENCES).toMatchObject(SECURE_WEB_PREFERENCES);
    expect(COMPUTE_WEB_PREFERENCES.backgroundThrottling).toBe(false);
  });

  it('has a strict CSP without remote sources or eval', () => {
    expect(DESKTOP_CSP).toContain("default-src 'self'");
    expect(DESKTOP_CSP).toContain("object-src 'none'");
    expect(DESKTOP_CSP).not.toMatch(/https?:/);
    expect(DESKTOP_CSP).not.toContain("'unsafe-eval'");
  });

  it('opens only allow-listed https origins externally', () => {
    expect(isAllowedExternalUrl('https://huggingface.co/Xenova/clip-vit-base-patch32')).toBe(true);
    expect(isAllowedExternalUrl('http://huggingface.co/')).toBe(false);
    expect(isAllowedExternalUrl('https://huggingface.co.evil.example/')).toBe(false);
    expect(isAllowedExternalUrl('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternalUrl('javascript:alert(1)')).toBe(false);
  });

  it('restores saved window geometry and ignores absurd values', () => {
    expect(parseWindowState({ x: 10, y: 20, width: 1000, height: 700, maximized: true })).toEqual({
      x: 10,
      y: 20,
      width: 1000,
      height: 700,
      maximized: true,
    });
    expect(parseWindowState({ width: 10, height: 1e9, x: 'a' })).toEqual({
      width: 1280,
      height: 820,
      maximized: false,
    });
    expect(parseWindowState(null)).toEqual({ width: 1280, height: 820, maximized: false });
  });

  it('forgets a saved position that is on no display any more', () => {
    const displays = [{ x: 0, y: 0, width: 1920, height: 1080 }];
    const saved = { x: 100, y: 80, width: 1000, height: 700, maximized: false };
    expect(keepOnScreen(saved, displays)).toEqual(saved);
    // It was on a second monitor to the right, now unplugged.
    expect(keepOnScreen({ ...saved, x: 2200 }, displays)).toEqual({ width: 1000, height: 700, maximized: false });
    // Only 40 px peek in from the left edge: not enough to grab it.
    expect(keepOnScreen({ ...saved, x: -960 }, displays).x).toBeUndefined();
    expect(keepOnScreen({ ...saved, x: 2200 }, [...displays, { x: 1920, y: 0, width: 2560, height: 1440 }])).toEqual({
      ...saved,
      x: 2200,
    });
  });
});
