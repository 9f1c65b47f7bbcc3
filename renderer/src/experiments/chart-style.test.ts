import { describe, expect, it } from 'vitest';
import { SERIES_HATCHES } from '../../../shared/experiment-report';
import { chartTheme, HATCH_WORDS, luminance, seriesHatch } from './chart-style';

const contrast = (a: string, b: string) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
};

describe('the experiment chart’s colours', () => {
  it('has series colours of at least 3:1 against the card in both themes (WCAG 1.4.11)', () => {
    document.documentElement.style.setProperty('--surface', '#ffffff');
    const light = chartTheme();
    document.documentElement.style.setProperty('--surface', '#1d2127');
    const dark = chartTheme();
    document.documentElement.style.removeProperty('--surface');
    expect([light.dark, dark.dark]).toEqual([false, true]);
    for (const c of light.series) expect(contrast(c, '#ffffff'), c).toBeGreaterThanOrEqual(3);
    for (const c of dark.series) expect(contrast(c, '#1d2127'), c).toBeGreaterThanOrEqual(3);
    expect(new Set(light.series).size).toBe(light.series.length);
  });

  it('gives every series its own hatching, named in words', () => {
    const hatches = Array.from({ length: SERIES_HATCHES.length }, (_, i) => seriesHatch(i));
    expect(new Set(hatches).size).toBe(SERIES_HATCHES.length);
    expect(new Set(hatches.map((h) => HATCH_WORDS[h])).size).toBe(SERIES_HATCHES.length);
  });
});
