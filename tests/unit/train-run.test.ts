/**
 * @file End-to-end `learn` and `evaluate` through the in-process engine on a tiny fixture CLIP model and a generated
 * folder dataset (plain Node, tfjs cpu backend): outputs, consistency between learn and evaluate, determinism,
 * cancellation, no tensor leaks.
 *
 * The fixture model has random weights, so accuracies here say nothing about CoOp; the demo and the bench measure
 * that on the demo model.
 */
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KGCOOP_LAMBDA, type LearnProgress } from '../../shared/contract/train';
import { unwrap } from '../../shared/result';
import { readContextFile } from '../../electron/engine/formats/context-file';
import { cliHint } from '../../electron/hosts/cli/command';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const tmp = tempDir('coop-train-run-');
const engine = inProcessEngine();
const model = fixtureModelDirs()[0] as string;
const dataDir = join(tmp.path, 'data');
const testDir = join(tmp.path, 'test');

const writeImages = (root: string, perClass: number, seed: number): Promise<string[][]> =>
  writeColourDataset(root, perClass, seed);

beforeAll(async () => {
  await writeImages(dataDir, 8, 1);
  await writeImages(testDir, 3, 2);
}, 60_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

const base = { model, data: dataDir, shots: 4, nCtx: 4, epochs: 3, augViews: 2, backend: 'cpu' as const };

describe('learn and evaluate', () => {
  it('learns, writes a loadable context and a curve, and evaluate agrees with the run on the test folder', async () => {
    const events: LearnProgress[] = [];
    const r = unwrap(
      await engine.client.call(
        'learn',
        { ...base, test: testDir, seed: 1, out: join(tmp.path, 'run1') },
        { onProgress: (e) => events.push(e) },
      ),
    );
    expect(r.backend).toBe('cpu');
    expect(r.data.classes.map((c) => [c.name, c.prompt, c.train, c.val, c.test])).toEqual([
      ['blue_thing', 'blue thing', 4, 4, 3],
      ['green_thing', 'green thing', 4, 4, 3],
      ['red_thing', 'red thing', 4, 4, 3],
    ]);
    expect(r.curve).toHaveLength(4);
    expect(r.curve[0]?.testAccuracy).toBe(r.zeroShot.test.accuracy);
    expect(r.test.count).toBe(9);
    expect(r.project).toBeNull();
    expect(r.predictions.map((p) => p.imageId)).toEqual(new Array<null>(9).fill(null));
    expect(r.predictions.filter((p) => p.predicted === p.label).length / 9).toBe(r.test.accuracy);
    // 12 images < batch 32: one step per epoch.
    expect(r.timings.steps).toBe(3);
    // 12 training images x 2 views + 12 validation + 9 test images.
    expect(r.timings.imagesEmbedded + r.timings.imagesFromCache).toBe(45);
    expect(r.nearestTokens).toHaveLength(4);
    expect(existsSync(r.curvePath)).toBe(true);
    expect((await sharp(r.curvePath).metadata()).format).toBe('png');
    expect(events.some((e) => e.kind === 'features')).toBe(true);
    expect(events.filter((e) => e.kind === 'step')).toHaveLength(3);

    const file = await readContextFile(r.contextPath);
    expect(file.shape).toEqual([4, 64]);
    expect(file.meta).toMatchObject({
      classNames: ['blue_thing', 'green_thing', 'red_thing'],
      prompts: ['blue thing', 'green thing', 'red thing'],
      nCtx: 4,
      csc: false,
      position: 'end',
      seed: 1,
      shots: 4,
      backend: 'cpu',
      model: { id: r.model.id },
    });
    expect(file.meta.metrics['testAccuracy']).toBe(r.test.accuracy);

    const ev = unwrap(
      await engine.client.call('evaluate', { model, data: testDir, context: r.contextPath, backend: 'cpu' }),
    );
    expect(ev.test.count).toBe(9);
    expect(ev.test.accuracy).toBe(r.test.accuracy);
    expect(ev.test.confusion).toEqual(r.test.confusion);
    expect(ev.zeroShot.test.accuracy).toBe(r.zeroShot.test.accuracy);
    expect(ev.warnings).toEqual([]);

    // A unified context applies to class names it was not learned on (the paper's transfer to new classes).
    const renamed = join(tmp.path, 'renamed');
    for (const [from, to] of [
      ['blue_thing', 'azure_item'],
      ['green_thing', 'lime_item'],
      ['red_thing', 'scarlet_item'],
    ] as const)
      cpSync(join(testDir, from), join(renamed, to), { recursive: true });
    const moved = unwrap(
      await engine.client.call('evaluate', { model, data: renamed, context: r.contextPath, backend: 'cpu' }),
    );
    expect(moved.test.count).toBe(9);
    expect(moved.test.perClass.map((c) => c.name)).toEqual(['azure_item', 'lime_item', 'scarlet_item']);
    expect(moved.warnings).toEqual([expect.stringMatching(/applied to 3 class name\(s\) it was not learned on/)]);
    // Another model cannot use the context.
    const other = fixtureModelDirs().find((d) => d !== model);
    if (!other) throw new Error('the fixtures have one model only; this check needs two');
    const refused = await engine.client.call('evaluate', { model: other, data: testDir, context: r.contextPath });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_data' } });
    if (!refused.ok) {
      expect(refused.error.message).toContain('only works with the model it was learned with');
      // The studio phrases it in its own words: a reason and facts, and no CLI flag in the message.
      expect(refused.error.message).not.toMatch(/\s--[a-z]/);
      expect(refused.error.reason).toBe('model_mismatch');
      expect(refused.error.facts).toMatchObject({ contextModel: { dir: r.model.dir }, model: { dir: other } });
      expect(cliHint(refused.error)).toMatch(/--model/);
    }
  }, 120_000);

  it('gives the same context for the same seed, reuses cached features, and frees every tensor', async () => {
    releaseTextEncoderCache();
    const start = tf.memory().numTensors;
    const args = { ...base, shots: 2, seed: 5 };
    const a = unwrap(await engine.client.call('learn', { ...args, out: join(tmp.path, 'a') }));
    releaseTextEncoderCache();
    expect(tf.memory().numTensors).toBe(start);
    const b = unwrap(await engine.client.call('learn', { ...args, out: join(tmp.path, 'b') }));
    expect(b.timings.imagesEmbedded).toBe(0);
    const [fa, fb] = await Promise.all([readContextFile(a.contextPath), readContextFile(b.contextPath)]);
    expect(Array.from(fb.ctx)).toEqual(Array.from(fa.ctx));
    expect(b.curve.map((p) => p.trainLoss)).toEqual(a.curve.map((p) => p.trainLoss));
    // Without --test the test set is what the split leaves: 8 - 2 shots - 2 validation = 4 per class.
    expect(a.test.count).toBe(12);
  }, 120_000);

  it('learns KgCoOp when asked (method kgcoop, the official default weight) and says so in the result and context', async () => {
    const args = { ...base, shots: 2, seed: 5 };
    const coop = unwrap(await engine.client.call('learn', { ...args, out: join(tmp.path, 'kg-coop') }));
    const kg = unwrap(
      await engine.client.call('learn', { ...args, method: 'kgcoop', out: join(tmp.path, 'kg-default') }),
    );
    const kg2 = unwrap(
      await engine.client.call('learn', { ...args, method: 'kgcoop', kgLambda: 2, out: join(tmp.path, 'kg-2') }),
    );
    expect(coop.settings).toMatchObject({ method: 'coop', kgLambda: null });
    expect(kg.settings).toMatchObject({ method: 'kgcoop', kgLambda: KGCOOP_LAMBDA });
    expect(kg2.settings).toMatchObject({ method: 'kgcoop', kgLambda: 2 });
    const [c, k, k2] = await Promise.all([coop, kg, kg2].map((r) => readContextFile(r.contextPath)));
    expect(k?.meta).toMatchObject({ method: 'kgcoop', kgLambda: KGCOOP_LAMBDA });
    expect(c?.meta.method).toBe('coop');
    // The same seed and data: only the loss differs, so the learned contexts differ (and by lambda).
    expect(Array.from(k?.ctx ?? [])).not.toEqual(Array.from(c?.ctx ?? []));
    expect(Array.from(k2?.ctx ?? [])).not.toEqual(Array.from(k?.ctx ?? []));
    const refused = await engine.client.call('learn', { ...args, kgLambda: 4 });
    expect(refused.ok ? null : refused.error.code).toBe('bad_args');
  }, 120_000);

  it('on wasm with 2 threads: reports them, repeats itself exactly, agrees with 1 thread, frees every tensor', async () => {
    releaseTextEncoderCache();
    const start = tf.memory().numTensors;
    const args = { ...base, backend: 'wasm' as const, shots: 2, seed: 7 };
    const run = async (threads: number, out: string) =>
      unwrap(await engine.client.call('learn', { ...args, threads, out: join(tmp.path, out) }));
    const one = await run(1, 'w1');
    const two = await run(2, 'w2');
    const again = await run(2, 'w2b');
    releaseTextEncoderCache();
    expect(tf.memory().numTensors).toBe(start);
    expect([one.timings.threads, two.timings.threads]).toEqual([1, 2]);
    const [c1, c2, c2b] = await Promise.all([one.contextPath, two.contextPath, again.contextPath].map(readContextFile));
    if (!c1 || !c2 || !c2b) throw new Error('missing context files');
    expect(Array.from(c2b.ctx)).toEqual(Array.from(c2.ctx));
    // Only the order of float additions differs between 1 and 2 threads (see tests/unit/learner-sharded.test.ts).
    const scale = Math.max(...Array.from(c1.ctx, Math.abs));
    expect(Math.max(...Array.from(c2.ctx, (v, i) => Math.abs(v - (c1.ctx[i] ?? NaN))))).toBeLessThan(1e-4 * scale);
    expect(two.test.accuracy).toBe(one.test.accuracy);
  }, 180_000);

  it('refuses bad inputs with clear errors and can be cancelled', async () => {
    const missing = await engine.client.call('evaluate', {
      model,
      data: testDir,
      context: join(tmp.path, 'nope.safetensors'),
    });
    expect(missing.ok ? null : missing.error.code).toBe('not_found');
    // 8 images per class and 4 shots leave nothing to test: the run steps down to 2 shots and says so.
    const small = unwrap(await engine.client.call('learn', { ...base, seed: 1, out: join(tmp.path, 'x') }));
    expect(small.settings).toMatchObject({ shots: 2, requestedShots: 4 });
    expect(small.notes).toEqual([expect.objectContaining({ code: 'shots_capped', requested: 4, used: 2 })]);
    expect(small.data.classes.map((c) => [c.train, c.val, c.test])).toEqual([
      [2, 2, 4],
      [2, 2, 4],
      [2, 2, 4],
    ]);
    const file = await readContextFile(small.contextPath);
    expect(file.meta.shots).toBe(2);
    const ac = new AbortController();
    const cancelled = await engine.client.call(
      'learn',
      { ...base, test: testDir, seed: 2, epochs: 50, out: join(tmp.path, 'c') },
      {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.kind === 'step' && e.epoch === 2) ac.abort();
        },
      },
    );
    expect(cancelled.ok ? null : cancelled.error.code).toBe('cancelled');
  }, 120_000);
});
