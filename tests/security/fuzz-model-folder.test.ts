/**
 * @file Fuzz test of model folders: seeded mutations of a copy of the embedded demo model's `config.json`,
 * `preprocessor_config.json`, tokenizer files and ONNX headers, read with the folder loader and the tokenizer, and
 * a few mutated ONNX graphs opened with ONNX Runtime (see [Note: fuzz oracle]).
 */
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeClipModels, openClipModel } from '../../electron/engine/clip/clip-model';
import { loadModelFolder } from '../../electron/engine/clip/model-folder';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { demoModelDir } from '../../electron/engine/settings/paths';
import { tempDir } from '../helpers/engine';
import { expectClearError, fuzz, mutateBytes, mutateJson, type Rng } from './fuzz-kit';

const tmp = tempDir('coop-fuzz-model-');
const dir = join(tmp.path, 'model');
cpSync(demoModelDir(), dir, { recursive: true });
const originals = new Map<string, Buffer>();
for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }))
  if (statSync(join(dir, f)).isFile()) originals.set(f, readFileSync(join(dir, f)));
afterAll(async () => {
  await closeClipModels();
  tmp.cleanup();
});

const escape = '../'.repeat(12) + 'escaped';
const JSON_FILES = ['config.json', 'preprocessor_config.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const TOKENIZER_FILES = [
  'tokenizer.json',
  'vocab.json',
  'merges.txt',
  'tokenizer_config.json',
  'special_tokens_map.json',
];
const ONNX_FILES = ['onnx/text_model.onnx', 'onnx/vision_model.onnx'];

/** Writes one mutated file over the pristine copy; returns its name. */
function mutateOne(rng: Rng, files: readonly string[]): string {
  for (const [f, bytes] of originals) writeFileSync(join(dir, f), bytes);
  const name = rng.pick(files);
  const original = originals.get(name) as Buffer;
  let out: Uint8Array;
  if (name.endsWith('.onnx')) {
    // The header scan reads the model's opening fields and the graph's inputs and outputs near the end.
    const head = { from: 0, to: 2048 };
    const tail = { from: original.length - 8192, to: original.length };
    out = mutateBytes(original, rng, 3, rng.next() < 0.5 ? head : tail);
  } else if (name.endsWith('.json') && rng.next() < 0.75) {
    out = Buffer.from(JSON.stringify(mutateJson(JSON.parse(original.toString('utf8')), rng, escape)) ?? 'null');
  } else out = mutateBytes(original, rng, 3);
  writeFileSync(join(dir, name), out);
  return name;
}

async function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('fuzz: model folders', () => {
  it('the folder loader: mutated configs and ONNX headers give a clear error or success', async () => {
    const ran = await fuzz({ seed: 8, count: 100, budgetMs: 30_000 }, async (rng, label) => {
      const name = mutateOne(rng, [...JSON_FILES, ...ONNX_FILES]);
      const loaded = loadModelFolder(dir);
      expectClearError(await settle(loaded), `${label} (${name})`);
      const info = await loaded.catch(() => null);
      if (!info) return;
      // What loads must be usable: sizes are positive whole numbers, scales finite.
      const { text, vision, projectionDim } = info.config;
      const sizes = { ...text, ...vision, projectionDim, ...info.preprocess, resample: info.preprocess.resample + 1 };
      for (const [k, v] of Object.entries(sizes))
        if (typeof v === 'number' && !['rescaleFactor'].includes(k))
          expect(Number.isSafeInteger(v) && v > 0, `${label} (${name}): ${k} = ${v}`).toBe(true);
      expect(Number.isFinite(info.logitScale) && info.logitScale > 0, `${label}: logit scale`).toBe(true);
      expect(
        [...info.preprocess.mean, ...info.preprocess.std, info.preprocess.rescaleFactor].every(Number.isFinite),
      ).toBe(true);
    });
    expect(ran).toBeGreaterThan(30);
  });

  it('the tokenizer: mutated vocabularies, merges and configs give a clear error or a tokenizer that encodes', async () => {
    const ran = await fuzz({ seed: 9, count: 60, budgetMs: 30_000 }, async (rng, label) => {
      const name = mutateOne(rng, TOKENIZER_FILES);
      const texts = ['a photo of a cat.', '<|endoftext|> ! é 😀'];
      const encoded = ClipTokenizer.fromModelDir(dir).then((t) => ({ t, batch: t.encodeBatch(texts) }));
      expectClearError(await settle(encoded), `${label} (${name})`);
      const ok = await encoded.catch(() => null);
      // What loads must encode to ids the text encoder can look up.
      for (const id of ok?.batch.ids.flat() ?? [])
        expect(Number.isSafeInteger(id) && id >= 0 && id < (ok?.t.vocabSize ?? 0), `${label} (${name}): id ${id}`).toBe(
          true,
        );
    });
    expect(ran).toBeGreaterThan(20);
  });

  it('ONNX Runtime: a few mutated graphs are refused as invalid models or open', async () => {
    const ran = await fuzz({ seed: 10, count: 12, budgetMs: 30_000 }, async (rng, label) => {
      const name = mutateOne(rng, ONNX_FILES);
      await closeClipModels();
      expectClearError(await settle(openClipModel(dir)), `${label} (${relative(tmp.path, join(dir, name))})`);
    });
    expect(ran).toBeGreaterThan(3);
  });
});
