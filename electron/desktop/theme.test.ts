import { describe, expect, it, vi } from 'vitest';
import { updateSettings } from '../engine/settings/settings';
import { tempDir } from '../../tests/helpers/engine';
import { followThemeSetting, themeSourceOf, type ThemeSource } from './theme';

describe('theme setting', () => {
  it('maps the setting to a theme source', () => {
    expect(themeSourceOf({ theme: 'dark' })).toBe('dark');
    expect(themeSourceOf({ theme: 'light' })).toBe('light');
    expect(themeSourceOf({ theme: 'neon' })).toBe('system');
    expect(themeSourceOf({})).toBe('system');
  });

  it('applies the stored theme at once and follows changes written by the engine', async () => {
    const dir = tempDir();
    try {
      updateSettings(dir.path, { theme: 'dark', hfEndpoint: 'https://example.org' });
      const seen: ThemeSource[] = [];
      const stop = followThemeSetting(dir.path, (t) => seen.push(t));
      expect(seen).toEqual(['dark']);
      updateSettings(dir.path, { theme: 'light' });
      await vi.waitFor(() => expect(seen).toEqual(['dark', 'light']), { timeout: 5000 });
      updateSettings(dir.path, { hfEndpoint: null });
      updateSettings(dir.path, { theme: null });
      await vi.waitFor(() => expect(seen).toEqual(['dark', 'light', 'system']), { timeout: 5000 });
      stop();
    } finally {
      dir.cleanup();
    }
  });
});
