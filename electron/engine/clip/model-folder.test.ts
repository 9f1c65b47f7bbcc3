/**
 * @file Tests of model-folder loading and validation on the fixture models and on broken copies of them.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { fixtureModelDirs } from '../../../tests/helpers/fixtures';
import { AppError } from '../../../shared/result';
import { loadModelFolder } from './model-folder';

const tmp = tempDir('coop-model-folder-');
afterAll(() => tmp.cleanup());
const source = fixtureModelDirs()[0] ?? '';

let copies = 0;
/** A writable copy of the first fixture model (weights and config, no reference data). */
function copyModel(): string {
  const dest = join(tmp.path, `m${copies++}`);
  cpSync(source, dest, {
    recursive: true,
    filter: (src) => !['images', 'pixel_values', 'reference', 'reference.json'].includes(basename(src)),
  });
  return dest;
}

async function loadError(dir: string, variant?: 'fp32' | 'fp16' | 'quantized'): Promise<AppError> {
  try {
    await loadModelFolder(dir, variant ? { variant } : {});
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected loadModelFolder to fail');
}

function editJson(path: string, edit: (o: Record<string, unknown>) => void): void {
  const o = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(o);
  writeFileSync(path, JSON.stringify(o));
}

describe('loadModelFolder on the fixture models', () => {
  it.each(fixtureModelDirs())('reads every setting of %s from its files', async (dir) => {
    const info = await loadModelFolder(dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
      projection_dim: number;
      text_config: { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; vocab_size: number };
      vision_config: { image_size: number; patch_size: number; hidden_size: number };
    };
    const pre = JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8')) as {
      image_mean: number[];
      image_std: number[];
      size: { shortest_edge: number };
      crop_size: { height: number; width: number };
      rescale_factor: number;
      resample: number;
    };
    expect(info.variant).toBe('fp32');
    expect(info.textModelPath).toBe(join(dir, 'onnx', 'text_model.onnx'));
    expect(info.config).toEqual({
      projectionDim: cfg.projection_dim,
      text: {
        width: cfg.text_config.hidden_size,
        layers: cfg.text_config.num_hidden_layers,
        heads: cfg.text_config.num_attention_heads,
        contextLength: 77,
        vocabSize: cfg.text_config.vocab_size,
      },
      vision: {
        imageSize: cfg.vision_config.image_size,
        patchSize: cfg.vision_config.patch_size,
        width: cfg.vision_config.hidden_size,
      },
    });
    expect(info.preprocess).toEqual({
      shortestEdge: pre.size.shortest_edge,
      cropHeight: pre.crop_size.height,
      cropWidth: pre.crop_size.width,
      mean: pre.image_mean,
      std: pre.image_std,
      resample: pre.resample,
      rescaleFactor: pre.rescale_factor,
      doCenterCrop: true,
      doNormalize: true,
    });
    // logit_scale_init_value (2.6592) is not the trained scale; split exports carry none, so 100.
    expect(info.logitScale).toBe(100);
    expect(info.textHasAttentionMask).toBe(true);
    const fp16 = await loadModelFolder(dir, { variant: 'fp16' });
    expect(fp16.visionModelPath).toBe(join(dir, 'onnx', 'vision_model_fp16.onnx'));
    expect(fp16.id).not.toBe(info.id);
    expect((await loadModelFolder(dir)).id).toBe(info.id);
  });

  it('gives the same id to a copy of the same model', async () => {
    expect((await loadModelFolder(copyModel())).id).toBe((await loadModelFolder(source)).id);
  });
});

describe('loadModelFolder on broken folders', () => {
  it('names a missing encoder file and the variants that do exist', async () => {
    const dir = copyModel();
    rmSync(join(dir, 'onnx', 'vision_model.onnx'));
    expect((await loadError(dir, 'fp32')).message).toMatch(
      /no onnx\/vision_model\.onnx for the fp32 variant \(it has: fp16\)/,
    );
    // Without a requested variant the loader falls back to the complete fp16 pair.
    expect((await loadModelFolder(dir)).variant).toBe('fp16');
    expect((await loadError(dir, 'quantized')).message).toMatch(/onnx\/text_model_quantized\.onnx/);
  });

  it('names missing config, preprocessor and tokenizer files, and a folder that does not exist', async () => {
    for (const f of ['config.json', 'preprocessor_config.json']) {
      const dir = copyModel();
      rmSync(join(dir, f));
      expect((await loadError(dir)).message).toContain(`has no ${f}`);
    }
    const dir = copyModel();
    for (const f of ['tokenizer.json', 'vocab.json']) rmSync(join(dir, f));
    expect((await loadError(dir)).message).toMatch(/no tokenizer\.json and no vocab\.json \+ merges\.txt/);
    expect((await loadError(join(tmp.path, 'nowhere'))).message).toMatch(/does not exist/);
  });

  it('reports a truncated ONNX file as truncated', async () => {
    const dir = copyModel();
    const path = join(dir, 'onnx', 'text_model.onnx');
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const e = await loadError(dir);
    expect(e.code).toBe('invalid_model');
    expect(e.message).toMatch(/onnx\/text_model\.onnx is truncated/);
  });

  it('reports a file that is not ONNX, and a graph that is not a CLIP encoder', async () => {
    const dir = copyModel();
    writeFileSync(join(dir, 'onnx', 'vision_model.onnx'), '<html>404 Not Found</html>');
    expect((await loadError(dir)).message).toMatch(/onnx\/vision_model\.onnx is not an ONNX model/);
    const swapped = copyModel();
    cpSync(join(swapped, 'onnx', 'text_model.onnx'), join(swapped, 'onnx', 'vision_model.onnx'));
    expect((await loadError(swapped)).message).toMatch(/is not a CLIP vision encoder: it has no "image_embeds" output/);
  });

  it('reports wrong input names with what the graph does take', async () => {
    const dir = copyModel();
    const path = join(dir, 'onnx', 'vision_model.onnx');
    // Same-length rename inside the protobuf keeps the file valid.
    writeFileSync(
      path,
      Buffer.from(readFileSync(path).toString('latin1').replaceAll('pixel_values', 'pixel_inputs'), 'latin1'),
    );
    expect((await loadError(dir)).message).toMatch(
      /wrong inputs: expected "pixel_values", found "pixel_inputs" float32 \[batch_size, 3, 32, 32\]/,
    );
  });

  it('reports dimension mismatches between the encoders and with the config', async () => {
    const dir = copyModel();
    editJson(join(dir, 'config.json'), (c) => {
      (c['vision_config'] as Record<string, unknown>)['projection_dim'] = 16;
    });
    expect((await loadError(dir)).message).toMatch(
      /projection dimensions disagree: projection_dim 32, text 32, vision 16/,
    );
    const other = copyModel();
    editJson(join(other, 'config.json'), (c) => {
      c['projection_dim'] = 16;
      (c['text_config'] as Record<string, unknown>)['projection_dim'] = 16;
      (c['vision_config'] as Record<string, unknown>)['projection_dim'] = 16;
    });
    expect((await loadError(other)).message).toMatch(
      /text_model\.onnx embeds into 32 dimensions but config\.json says projection_dim 16/,
    );
    const crop = copyModel();
    editJson(join(crop, 'preprocessor_config.json'), (p) => {
      p['crop_size'] = { height: 48, width: 48 };
    });
    expect((await loadError(crop)).message).toMatch(/takes 32x32 images but preprocessor_config\.json crops to 48x48/);
  });

  it('reports a config that is not JSON or not CLIP', async () => {
    const dir = copyModel();
    writeFileSync(join(dir, 'config.json'), '{"model_type": "clip", ');
    expect((await loadError(dir)).message).toMatch(/config\.json in .* is not valid JSON/);
    const bert = copyModel();
    writeFileSync(join(bert, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    expect((await loadError(bert)).message).toMatch(/does not describe a CLIP model \(model_type "bert"/);
  });
});
