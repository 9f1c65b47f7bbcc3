/**
 * @file Tests of the model store: import (copy and reference), list, active model, remove, settings, catalogue.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_MODEL_ID, type ModelManifest } from '../../shared/contract/models';
import { CATALOGUE, findCatalogueModel } from '../../electron/engine/models/catalogue';
import { importId, listInstalled, resolveModel } from '../../electron/engine/models/model-store';
import { readSettings, resolveEndpoint } from '../../electron/engine/settings/settings';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { sha256Hex } from './models-hf-server';

const fixture = fixtureModelDirs().find((d) => d.endsWith('hf-tiny-op17')) ?? '';
const ID = importId('hf-tiny-op17', 'fp32');

let engine: ReturnType<typeof inProcessEngine>;
beforeEach(() => {
  engine = inProcessEngine();
});
afterEach(async () => {
  await engine.cleanup();
});

describe('models import', () => {
  it('copies only the files of the chosen variant, with their sha256, and lists the model', async () => {
    const r = await engine.client.call('modelsImport', { path: fixture });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    if (!r.ok) return;
    const dir = join(engine.dataDir, 'models', ID);
    expect(r.value).toMatchObject({ id: ID, source: 'import-copy', dir, variant: 'fp32', problem: null });
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['text_model.onnx', 'vision_model.onnx']);
    expect(existsSync(join(dir, 'images'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelManifest;
    expect(manifest.origin).toBe(fixture);
    for (const f of manifest.files) expect(f.sha256, f.path).toBe(sha256Hex(readFileSync(join(fixture, f.path))));
    expect(readdirSync(join(engine.dataDir, 'downloads'))).toEqual([]);

    const list = await engine.client.call('modelsList', {});
    expect(list.ok && list.value.installed.find((m) => m.id === ID)?.fileCount).toBe(manifest.files.length);
  });

  it('references a folder without copying it; removing the model leaves the folder alone', async () => {
    const r = await engine.client.call('modelsImport', { path: fixture, mode: 'reference', variant: 'fp16' });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    const id = importId('hf-tiny-op17', 'fp16');
    expect(r.ok && r.value).toMatchObject({ id, source: 'import-reference', dir: fixture, variant: 'fp16' });
    expect(readdirSync(join(engine.dataDir, 'models', id))).toEqual(['model.json']);
    expect(resolveModel(engine.dataDir, id)).toEqual({ dir: fixture, id, variant: 'fp16' });
    const removed = await engine.client.call('modelsRemove', { id });
    expect(removed.ok && removed.value.removed).toBe(id);
    expect(existsSync(join(engine.dataDir, 'models', id))).toBe(false);
    expect(existsSync(join(fixture, 'onnx', 'text_model_fp16.onnx'))).toBe(true);
  });

  it('flags a referenced model whose folder went away', async () => {
    const copy = tempDir('coop-ref-');
    try {
      cpSync(fixture, copy.path, { recursive: true });
      const r = await engine.client.call('modelsImport', { path: copy.path, mode: 'reference', name: 'moving' });
      expect(r.ok, JSON.stringify(r)).toBe(true);
      rmSync(join(copy.path, 'onnx'), { recursive: true });
      const list = await engine.client.call('modelsList', {});
      const m = list.ok ? list.value.installed.find((x) => x.id === importId('moving', 'fp32')) : undefined;
      expect(m?.problem).toContain('onnx/text_model.onnx');
      const use = await engine.client.call('modelsSetActive', { id: importId('moving', 'fp32') });
      expect(!use.ok && use.error.code).toBe('invalid_model');
    } finally {
      copy.cleanup();
    }
  });

  it('refuses a folder that is not a model, and installs nothing', async () => {
    const bad = tempDir('coop-bad-');
    try {
      writeFileSync(join(bad.path, 'config.json'), '{}');
      const r = await engine.client.call('modelsImport', { path: bad.path });
      expect(!r.ok && r.error.code).toBe('invalid_model');
      const none = await engine.client.call('modelsImport', { path: join(bad.path, 'nope') });
      expect(!none.ok && none.error.code).toBe('not_found');
      const variant = await engine.client.call('modelsImport', { path: fixture, variant: 'quantized' });
      expect(!variant.ok && variant.error.code).toBe('invalid_model');
      expect(existsSync(join(engine.dataDir, 'models'))).toBe(false);
    } finally {
      bad.cleanup();
    }
  });
});

describe('active model and removal', () => {
  it('defaults to the demo model, follows the setting, and falls back when the model is removed', async () => {
    const start = await engine.client.call('modelsList', {});
    expect(start.ok && start.value.activeId).toBe(DEMO_MODEL_ID);
    expect((await engine.client.call('modelsImport', { path: fixture })).ok).toBe(true);
    const use = await engine.client.call('modelsSetActive', { id: ID });
    expect(use.ok && use.value.active).toBe(true);
    expect(readSettings(engine.dataDir).activeModel).toBe(ID);
    expect(resolveModel(engine.dataDir).dir).toBe(join(engine.dataDir, 'models', ID));
    const listed = await engine.client.call('modelsList', {});
    expect(listed.ok && listed.value.installed.filter((m) => m.active).map((m) => m.id)).toEqual([ID]);

    const removed = await engine.client.call('modelsRemove', { id: ID });
    expect(removed.ok && removed.value).toEqual({ removed: ID, activeId: DEMO_MODEL_ID });
    expect(readSettings(engine.dataDir).activeModel).toBeUndefined();
    expect(existsSync(join(engine.dataDir, 'models', ID))).toBe(false);
  });

  it('lists the embedded demo model first, active by default, and never removable', async () => {
    const demoDir = fixtureModelDirs()[0] ?? '';
    const [first] = listInstalled(engine.dataDir, demoDir);
    expect(first).toMatchObject({ id: DEMO_MODEL_ID, source: 'embedded', dir: demoDir, active: true, problem: null });
    expect(first?.bytes).toBeGreaterThan(0);
    expect((await engine.client.call('modelsImport', { path: fixture, activate: true })).ok).toBe(true);
    const after = listInstalled(engine.dataDir, demoDir);
    expect(after.map((m) => [m.id, m.active])).toEqual([
      [DEMO_MODEL_ID, false],
      [ID, true],
    ]);
  });

  it('explains unknown ids and refuses to remove the demo model', async () => {
    const unknown = await engine.client.call('modelsRemove', { id: 'no-such-model' });
    expect(!unknown.ok && unknown.error.code).toBe('not_found');
    const demo = await engine.client.call('modelsRemove', { id: DEMO_MODEL_ID });
    expect(!demo.ok && demo.error.code).toBe('unsupported');
    const use = await engine.client.call('modelsSetActive', { id: 'no-such-model' });
    expect(!use.ok && use.error.code).toBe('not_found');
  });
});

describe('settings', () => {
  it('keeps unknown keys, removes keys set to null, and refuses a corrupt file with its name', async () => {
    writeFileSync(join(engine.dataDir, 'settings.json'), JSON.stringify({ theme: 'dark' }));
    const set = await engine.client.call('settingsSet', { hfEndpoint: 'https://hf-mirror.example/' });
    expect(set.ok && set.value).toEqual({ theme: 'dark', hfEndpoint: 'https://hf-mirror.example/' });
    expect(resolveEndpoint(engine.dataDir, undefined, {})).toEqual({
      endpoint: 'https://hf-mirror.example',
      source: 'setting',
    });
    expect(
      resolveEndpoint(engine.dataDir, 'http://a.example', { COOP_STUDIO_HF_ENDPOINT: 'http://b.example' }),
    ).toEqual({ endpoint: 'http://a.example', source: 'argument' });
    const cleared = await engine.client.call('settingsSet', { hfEndpoint: null });
    expect(cleared.ok && cleared.value).toEqual({ theme: 'dark' });
    const bad = await engine.client.call('settingsSet', { hfEndpoint: 'ftp://x.example' });
    expect(!bad.ok && bad.error.code).toBe('bad_args');

    writeFileSync(join(engine.dataDir, 'settings.json'), '{ not json');
    const corrupt = await engine.client.call('settingsGet', {});
    expect(!corrupt.ok && corrupt.error).toMatchObject({ code: 'invalid_data' });
    if (!corrupt.ok) expect(corrupt.error.message).toContain('settings.json');
  });
});

describe('catalogue', () => {
  it('offers the three Xenova CLIP models in fp32, fp16 and quantized with every file of each variant', () => {
    for (const repo of [
      'Xenova/clip-vit-base-patch32',
      'Xenova/clip-vit-base-patch16',
      'Xenova/clip-vit-large-patch14',
    ]) {
      const m = findCatalogueModel(repo);
      expect(m, repo).toBeDefined();
      expect(m?.variants.map((v) => v.variant)).toEqual(['fp32', 'fp16', 'quantized']);
      for (const v of m?.variants ?? []) {
        const suffix = { fp32: '', fp16: '_fp16', quantized: '_quantized' }[v.variant];
        const paths = v.files.map((f) => f.path);
        expect(paths).toEqual(
          expect.arrayContaining([
            'config.json',
            'preprocessor_config.json',
            'tokenizer.json',
            'vocab.json',
            'merges.txt',
          ]),
        );
        expect(paths).toContain(`onnx/text_model${suffix}.onnx`);
        expect(paths).toContain(`onnx/vision_model${suffix}.onnx`);
        expect(v.totalBytes).toBe(v.files.reduce((s, f) => s + f.bytes, 0));
      }
    }
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(3);
  });

  it('uses the published ViT-B/32 sizes and orders the estimates by parameter count and precision', () => {
    const size = (repo: string, variant: string, file: string) =>
      findCatalogueModel(repo)
        ?.variants.find((v) => v.variant === variant)
        ?.files.find((f) => f.path === file);
    const b32 = 'Xenova/clip-vit-base-patch32';
    expect(size(b32, 'fp32', 'onnx/text_model.onnx')).toEqual({
      path: 'onnx/text_model.onnx',
      bytes: 254e6,
      approximate: false,
    });
    expect(size(b32, 'fp32', 'onnx/vision_model.onnx')?.bytes).toBe(352e6);
    expect(size(b32, 'quantized', 'onnx/vision_model_quantized.onnx')?.bytes).toBe(89e6);
    const l14 = size('Xenova/clip-vit-large-patch14', 'fp32', 'onnx/vision_model.onnx');
    expect(l14?.approximate).toBe(true);
    expect(l14?.bytes ?? 0).toBeGreaterThan(3 * 352e6);
    const l14fp16 = size('Xenova/clip-vit-large-patch14', 'fp16', 'onnx/vision_model_fp16.onnx');
    expect((l14fp16?.bytes ?? 0) * 2).toBeCloseTo(l14?.bytes ?? 0, -3);
  });
});
