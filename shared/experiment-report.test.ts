import { describe, expect, it } from 'vitest';
import type { ExperimentTable } from './contract/experiments';
import { experimentSvg, hatchMarks, SERIES_HATCHES } from './experiment-report';

/** Every coordinate pair of an SVG fragment's paths and circles. */
function points(svg: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of svg.matchAll(/[ML]([\d.-]+) ([\d.-]+)/g)) out.push([Number(m[1]), Number(m[2])]);
  for (const m of svg.matchAll(/cx="([\d.-]+)" cy="([\d.-]+)"/g)) out.push([Number(m[1]), Number(m[2])]);
  return out;
}

describe('the experiment chart', () => {
  it('draws each series’ marks inside its bar only', () => {
    const [x, y, w, h] = [10, 20, 14, 37];
    for (const hatch of SERIES_HATCHES) {
      const svg = hatchMarks(hatch, x, y, w, h);
      if (hatch === '') {
        expect(svg).toBe('');
        continue;
      }
      const pts = points(svg);
      expect(pts.length, hatch).toBeGreaterThan(0);
      for (const [px, py] of pts) {
        expect(px).toBeGreaterThanOrEqual(x - 0.05);
        expect(px).toBeLessThanOrEqual(x + w + 0.05);
        expect(py).toBeGreaterThanOrEqual(y - 0.05);
        expect(py).toBeLessThanOrEqual(y + h + 0.05);
      }
    }
    // A bar of no height gets no marks.
    expect(hatchMarks('slash', 0, 0, 10, 0)).toBe('');
  });

  it('gives the series different marks and references nothing outside the file', () => {
    const table: ExperimentTable = {
      title: 't',
      groupAxis: 'g',
      metric: 'm',
      groups: ['a'],
      series: ['s1', 's2', 's3'],
      cells: ['s1', 's2', 's3'].map((series, i) => ({
        group: 'a',
        series,
        mean: 0.3 * (i + 1),
        std: 0.05,
        values: [],
      })),
    };
    const svg = experimentSvg(table);
    expect(svg).not.toMatch(/url\(|href=|<script/i);
    // Legend and bars: s2 hatched with lines, s3 with dots.
    expect(svg.match(/<circle /g)?.length ?? 0).toBeGreaterThan(0);
    expect(svg.match(/stroke="#fff"/g)?.length).toBe(2);
  });
});
