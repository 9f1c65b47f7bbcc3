/**
 * @file Tests of the feature step: seeded random-resized-crop views and the per-process embedding cache (plain Node).
 */
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  embedAll,
  FeatureCache,
  randomResizedCropView,
  trainingViews,
  type ImageEmbedder,
} from '../../electron/engine/features/features';
import { Rng } from '../../electron/engine/train/splits';
import { tempDir } from '../helpers/engine';

const tmp = tempDir('coop-train-feat-');
const imgA = join(tmp.path, 'a.png');
const imgB = join(tmp.path, 'b.png');

beforeAll(async () => {
  await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .png()
    .toFile(imgA);
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 10, g: 10, b: 200 } } })
    .png()
    .toFile(imgB);
});
afterAll(() => tmp.cleanup());

/** An embedder that records what it was asked and returns a feature derived from the request. */
function fakeEmbedder(): ImageEmbedder & { calls: number; seen: number } {
  const m = {
    info: { id: 'fake' },
    calls: 0,
    seen: 0,
    async embedImages(inputs: { path?: string; view?: { crop?: number[]; flip?: boolean } }[]) {
      m.calls++;
      m.seen += inputs.length;
      return {
        embeddings: inputs.map((x) =>
          x.path?.endsWith('missing.png')
            ? null
            : Float32Array.from([3 + (x.view?.crop?.[0] ?? 0), 4, x.view?.flip ? 1 : 0]),
        ),
        errors: inputs.flatMap((x, index) =>
          x.path?.endsWith('missing.png') ? [{ index, path: x.path, reason: 'cannot read' }] : [],
        ),
      };
    },
  };
  return m;
}

describe('random resized crop views', () => {
  it('stay inside the image, keep area within 8-100 % and ratio within 3/4-4/3, and are seeded', () => {
    const rng = new Rng(5);
    let flips = 0;
    for (let i = 0; i < 500; i++) {
      const v = randomResizedCropView(rng, 300, 200);
      const [x0, y0, x1, y1] = v.crop ?? [0, 0, 0, 0];
      expect(x0 >= 0 && y0 >= 0 && x1 <= 1 && y1 <= 1 && x1 > x0 && y1 > y0).toBe(true);
      const area = (x1 - x0) * (y1 - y0);
      const ratio = ((x1 - x0) * 300) / ((y1 - y0) * 200);
      // Rounding to whole pixels moves area and ratio a little past the sampled bounds.
      expect(area).toBeGreaterThan(0.07);
      expect(ratio).toBeGreaterThan(0.7);
      expect(ratio).toBeLessThan(1.4);
      if (v.flip) flips++;
    }
    expect(flips).toBeGreaterThan(200);
    expect(flips).toBeLessThan(300);
    expect(randomResizedCropView(new Rng(9), 300, 200)).toEqual(randomResizedCropView(new Rng(9), 300, 200));
  });

  it('gives one plain view per image for 0 views and N seeded crops otherwise', async () => {
    expect(await trainingViews([imgA, imgB], 0, new Rng(1))).toEqual([[undefined], [undefined]]);
    const v = await trainingViews([imgA, imgB], 3, new Rng(1));
    expect(v.map((x) => x.length)).toEqual([3, 3]);
    expect(await trainingViews([imgA, imgB], 3, new Rng(1))).toEqual(v);
  });
});

describe('embedAll', () => {
  it('normalises, reuses cached embeddings, and re-embeds a file whose mtime changed', async () => {
    const cache = new FeatureCache();
    const model = fakeEmbedder();
    const views = await trainingViews([imgA], 2, new Rng(3));
    const reqs = [
      { path: imgA },
      { path: imgB },
      ...(views[0] ?? []).map((view) => ({ path: imgA, ...(view ? { view } : {}) })),
    ];
    const first = await embedAll(model, reqs, { cache });
    expect(first.computed).toBe(4);
    const f0 = first.features[0];
    expect(f0 && Math.hypot(...f0)).toBeCloseTo(1, 6);
    const second = await embedAll(model, reqs, { cache });
    expect(second.computed).toBe(0);
    expect(second.features).toEqual(first.features);
    expect(model.seen).toBe(4);
    utimesSync(imgB, new Date(), new Date(Date.now() + 5000));
    const third = await embedAll(model, reqs, { cache });
    expect(third.computed).toBe(1);
  });

  it('returns null and an error for an unreadable image without failing the others', async () => {
    const res = await embedAll(fakeEmbedder(), [{ path: join(tmp.path, 'missing.png') }, { path: imgA }], {
      cache: new FeatureCache(),
    });
    expect(res.features[0]).toBeNull();
    expect(res.features[1]).not.toBeNull();
    expect(res.errors).toEqual([{ path: join(tmp.path, 'missing.png'), reason: 'cannot read' }]);
  });
});
