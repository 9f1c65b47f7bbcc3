/**
 * @file `baseToNew` and `domainShift` through the in-process engine on the demo model and the `backgrounds` sample
 * task (plain Node, tfjs cpu backend, tiny runs): the class split is recorded and never shares a class, base and new
 * are scored among their own classes only (zero-shot checked against a direct computation), the learned prompt is
 * scored on target folders matched by class name, and losses to the hand-written prompt are reported.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaseToNewResult, DomainShiftResult } from '../../shared/contract/experiments';
import { unwrap } from '../../shared/result';
import { openClipModel } from '../../electron/engine/clip/clip-model';
import { readFolderDataset } from '../../electron/engine/data/folder-dataset';
import { demoModelDir, resourcesDir } from '../../electron/engine/settings/paths';
import { fewShotSplit } from '../../electron/engine/train/splits';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';

const tmp = tempDir('coop-generalize-');
const engine = inProcessEngine();
const data = join(resourcesDir(), 'samples', 'backgrounds');
const base = { data, shots: 2, epochs: 2, cocoopEpochs: 1, backend: 'cpu' as const };

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

/** Zero-shot accuracy of "a photo of a {}." on `items`, among `classes` only (labels index `classes`). */
async function zeroShot(items: { path: string; label: number }[], classes: string[]): Promise<number> {
  const model = await openClipModel(demoModelDir());
  const norm = (v: Float32Array) => {
    const n = Math.hypot(...v);
    return Array.from(v, (x) => x / n);
  };
  const text = (await model.embedText(classes.map((c) => `a photo of a ${c}.`))).map(norm);
  const imgs = await model.embedImages(items.map((i) => i.path));
  let hits = 0;
  imgs.embeddings.forEach((e, i) => {
    const f = norm(e ?? new Float32Array());
    const s = text.map((t) => t.reduce((a, v, j) => a + v * (f[j] ?? 0), 0));
    if (s.indexOf(Math.max(...s)) === items[i]?.label) hits++;
  });
  return hits / items.length;
}

describe('baseToNew', () => {
  let result: BaseToNewResult;

  beforeAll(async () => {
    result = unwrap(
      await engine.client.call('baseToNew', {
        ...base,
        seeds: [1, 2],
        methods: ['zs', 'coop', 'cocoop'],
        out: join(tmp.path, 'b2n'),
      }),
    );
  }, 300_000);

  it('records the first-half split in label order, with no class on both sides', () => {
    expect(result.classSplit).toEqual({
      rule: 'first-half',
      base: ['checkered', 'dotted', 'grid'],
      new: ['plain', 'striped'],
    });
    expect(result.classSplit.base.filter((c) => result.classSplit.new.includes(c))).toEqual([]);
    expect(result.rows).toHaveLength(3 * 2);
  });

  it('scores zero-shot base images among the base classes and new images among the new classes', async () => {
    const ds = await readFolderDataset(data);
    const split = fewShotSplit(
      ds.classes.map((c) => c.files),
      { shots: 2, seed: 2 },
    );
    const side = (names: string[]) =>
      split.test
        .filter((t) => names.includes(ds.classes[t.label]?.name ?? ''))
        .map((t) => ({ path: t.path, label: names.indexOf(ds.classes[t.label]?.name ?? '') }));
    const zs = result.rows.find((r) => r.method === 'zs' && r.seed === 2);
    expect(zs?.base).toBeCloseTo(await zeroShot(side(result.classSplit.base), result.classSplit.base), 12);
    expect(zs?.new).toBeCloseTo(await zeroShot(side(result.classSplit.new), result.classSplit.new), 12);
  }, 60_000);

  it('reports the harmonic mean per seed and of the means', () => {
    for (const r of result.rows) expect(r.harmonic).toBeCloseTo((2 * r.base * r.new) / (r.base + r.new || 1), 12);
    for (const s of result.summary)
      expect(s.harmonic).toBeCloseTo((2 * s.base.mean * s.new.mean) / (s.base.mean + s.new.mean || 1), 12);
    expect(result.table.series).toEqual(['base', 'new', 'H']);
    expect(result.files.some((f) => f.endsWith('base-to-new.html'))).toBe(true);
    // The report says how much of the split the methods learned on: 2 shots and 2 validation images of 3 classes.
    const html = readFileSync(join(tmp.path, 'b2n', 'base-to-new.html'), 'utf8');
    expect(html).toContain('base-class training / validation images only (seed 1: 6 / 6, seed 2: 6 / 6)');
  });

  it('takes an explicit base split and refuses unknown or all classes', async () => {
    const given = unwrap(
      await engine.client.call('baseToNew', {
        ...base,
        seeds: [1],
        methods: ['zs'],
        baseClasses: ['striped', 'plain'],
      }),
    );
    expect(given.classSplit).toEqual({
      rule: 'given',
      base: ['plain', 'striped'],
      new: ['checkered', 'dotted', 'grid'],
    });
    const unknown = await engine.client.call('baseToNew', { ...base, methods: ['zs'], baseClasses: ['stripes'] });
    expect(unknown.ok ? '' : unknown.error.message).toMatch(/Unknown base class stripes/);
    const all = await engine.client.call('baseToNew', {
      ...base,
      methods: ['zs'],
      baseClasses: ['checkered', 'dotted', 'grid', 'plain', 'striped'],
    });
    expect(all.ok ? null : all.error.code).toBe('bad_args');
  }, 60_000);
});

describe('domainShift', () => {
  let result: DomainShiftResult;
  const target = join(tmp.path, 'target');

  beforeAll(async () => {
    // A target with two of the five classes: the same images as the source's, under the same class names.
    for (const name of ['dotted', 'grid']) {
      mkdirSync(join(target, name), { recursive: true });
      for (const f of readdirSync(join(data, name)).sort().slice(0, 6))
        copyFileSync(join(data, name, f), join(target, name, f));
    }
    result = unwrap(
      await engine.client.call('domainShift', {
        ...base,
        seeds: [1],
        targets: [target],
        methods: ['zs', 'coop', 'kgcoop'],
        nCtx: 4,
      }),
    );
  }, 300_000);

  it('scores the learned prompt in-domain and on the target, matching classes by name', async () => {
    expect(result.domains.map((d) => d.name)).toEqual(['in-domain', 'target']);
    expect(result.domains[1]?.missingClasses).toEqual(['checkered', 'plain', 'striped']);
    expect(result.domains[1]?.images).toBe(12);
    const classes = result.data.classes;
    const ds = await readFolderDataset(target);
    const items = ds.classes.flatMap((c) => c.files.map((path) => ({ path, label: classes.indexOf(c.name) })));
    const zs = result.rows.find((r) => r.method === 'zs' && r.domain === 'target');
    expect(zs?.accuracy).toBeCloseTo(await zeroShot(items, classes), 12);
    expect(result.rows).toHaveLength(3 * 2);
  }, 60_000);

  it('lists exactly the (domain, method) pairs where the learned prompt loses to zero-shot', () => {
    const acc = (m: string, d: string) => result.rows.find((r) => r.method === m && r.domain === d)?.accuracy ?? NaN;
    const expected = ['in-domain', 'target'].flatMap((d) =>
      (['coop', 'kgcoop'] as const).filter((m) => acc(m, d) < acc('zs', d)).map((m) => `${d}/${m}`),
    );
    expect(result.losses.map((l) => `${l.domain}/${l.method}`)).toEqual(expected);
  });

  it('refuses a target with a class the dataset does not have', async () => {
    const bad = join(tmp.path, 'bad');
    mkdirSync(join(bad, 'zigzag'), { recursive: true });
    copyFileSync(join(target, 'grid', readdirSync(join(target, 'grid'))[0] ?? ''), join(bad, 'zigzag', 'a.png'));
    const r = await engine.client.call('domainShift', { ...base, seeds: [1], methods: ['zs'], targets: [bad] });
    expect(r.ok ? null : r.error.code).toBe('invalid_data');
    expect(r.ok ? '' : r.error.message).toMatch(/zigzag/);
  });
});
