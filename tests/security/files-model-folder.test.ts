/**
 * @file Hostile model folders (found with the model-folder fuzz test, issue 15 "Also"): sizes that are not
 * positive whole numbers, an infinite logit scale, token ids that are not ids, malformed merges and a tokenizer
 * larger than the model's vocabulary are `invalid_model` errors when the folder is opened, not failures later.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/result';
import { closeClipModels, openClipModel } from '../../electron/engine/clip/clip-model';
import { loadModelFolder } from '../../electron/engine/clip/model-folder';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { demoModelDir } from '../../electron/engine/settings/paths';
import { tempDir } from '../helpers/engine';

const tmp = tempDir('coop-sec-model-');
let n = 0;
afterEach(() => closeClipModels());
afterAll(() => tmp.cleanup());

/** A copy of the demo model with one JSON file edited. */
function modelWith(file: string, edit: (json: Record<string, unknown>) => void): string {
  const dir = join(tmp.path, `m${n++}`);
  cpSync(demoModelDir(), dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(join(dir, file), JSON.stringify(json));
  return dir;
}
async function invalidModel(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe('invalid_model');
  return (e as AppError).message;
}
const textConfig = (j: Record<string, unknown>) => j['text_config'] as Record<string, unknown>;

describe('model folders', () => {
  it.each([
    ['hidden_size', -64],
    ['hidden_size', 2.5],
    ['num_attention_heads', 0],
    ['vocab_size', 1e300],
  ])('config.json text_config.%s = %s is refused', async (key, value) => {
    const dir = modelWith('config.json', (j) => {
      textConfig(j)[key] = value;
    });
    expect(await invalidModel(loadModelFolder(dir))).toMatch(new RegExp(`${key}.*whole number`));
  });

  it('a logit scale that overflows and a resample code that is not one are refused', async () => {
    const big = modelWith('config.json', (j) => {
      j['logit_scale'] = 1000;
    });
    expect(await invalidModel(loadModelFolder(big))).toMatch(/logit_scale/);
    const resample = modelWith('preprocessor_config.json', (j) => {
      j['resample'] = -7;
    });
    expect(await invalidModel(loadModelFolder(resample))).toMatch(/resample/);
  });

  it('token ids that are not ids and merges that are not pairs are refused', async () => {
    const badId = modelWith('vocab.json', (j) => {
      j['cat</w>'] = 'x';
    });
    expect(await invalidModel(ClipTokenizer.fromModelDir(badId))).toMatch(/"cat<\/w>" to "x"/);
    const negative = modelWith('vocab.json', (j) => {
      j['cat</w>'] = -3;
    });
    expect(await invalidModel(ClipTokenizer.fromModelDir(negative))).toMatch(/not a token id/);
    // Without vocab.json + merges.txt the tokenizer.json is read.
    const pairs = modelWith('tokenizer.json', (j) => {
      ((j['model'] as Record<string, unknown>)['merges'] as unknown[]).push(null);
    });
    for (const f of ['vocab.json', 'merges.txt']) rmSync(join(pairs, f));
    expect(await invalidModel(ClipTokenizer.fromModelDir(pairs))).toMatch(/merge rule/);
  });

  it('a tokenizer with ids beyond the model vocabulary is refused when the model opens', async () => {
    const dir = modelWith('vocab.json', (j) => {
      j['zzz</w>'] = 5000;
    });
    expect(await invalidModel(openClipModel(dir))).toMatch(/vocab/);
  });
});
