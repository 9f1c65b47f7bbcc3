import { describe, expect, it } from 'vitest';
import { markerIsStroke, markerPath, SERIES_MARKERS } from './chart-theme';

describe('series markers', () => {
  it('draws every marker differently, so series are told apart without colour', () => {
    const drawn = SERIES_MARKERS.map((m) => `${markerIsStroke(m) ? 'stroke' : 'fill'} ${markerPath(m, 10, 10, 4)}`);
    expect(new Set(drawn).size).toBe(SERIES_MARKERS.length);
  });

  it('draws the rounded square hollow, apart from the filled square', () => {
    expect(markerIsStroke('rectRounded')).toBe(true);
    expect(markerIsStroke('rect')).toBe(false);
    expect(markerPath('rectRounded', 10, 10, 4)).toContain('Q');
  });
});
