/**
 * @file Tests of the CLIP tokenizer against the fixtures' reference cases (OpenAI behaviour without ftfy).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModelDirs, fixturesDir } from '../../../tests/helpers/fixtures';
import { ClipTokenizer, cleanText } from './tokenizer';

interface Case {
  name: string;
  text: string;
  cleaned: string;
  bpe_tokens: string[];
  length: number;
  truncated: boolean;
  eot_index: number;
  input_ids_openai: number[];
  input_ids_hf: number[];
}

const tokDir = () => join(fixturesDir(), 'tokenizer');
const cases = (JSON.parse(readFileSync(join(tokDir(), 'cases.json'), 'utf8')) as { cases: Case[] }).cases;

let tok: ClipTokenizer;
beforeAll(async () => {
  tok = await ClipTokenizer.fromModelDir(tokDir());
});

describe('ClipTokenizer on the real CLIP vocabulary', () => {
  it('tokenizes "a photo of a dog." as in the issue', () => {
    expect(tok.encode('a photo of a dog.')).toEqual([49406, 320, 1125, 539, 320, 1929, 269, 49407]);
    expect(tok.sotId).toBe(49406);
    expect(tok.eotId).toBe(49407);
    expect(tok.vocabSize).toBe(49408);
    expect(tok.contextLength).toBe(77);
  });

  it.each(cases.map((c) => [c.name, c] as const))('matches reference case %s', (_name, c) => {
    expect(cleanText(c.text)).toBe(c.cleaned);
    expect(tok.bpeTokens(c.text)).toEqual(c.bpe_tokens);
    const ids = tok.encode(c.text);
    expect(ids).toEqual(c.input_ids_openai.slice(0, c.length));
    const openai = tok.encodeBatch([c.text], { padId: 0 });
    expect(openai.ids[0]).toEqual(c.input_ids_openai);
    expect(openai.truncated[0]).toBe(c.truncated);
    expect(openai.eotIndex[0]).toBe(c.eot_index);
    expect(tok.encodeBatch([c.text], { padId: tok.eotId }).ids[0]).toEqual(c.input_ids_hf);
  });

  it('pads by id after tokenizing: with OpenAI padding (id 0 = "!") the text is untouched', () => {
    expect(tok.idToToken(0)).toBe('!');
    const text = 'wow! hi!x';
    const { ids, eotIndex } = tok.encodeBatch([text], { padId: 0 });
    const plain = tok.encode(text);
    expect(ids[0]?.slice(0, plain.length)).toEqual(plain);
    expect(ids[0]?.slice(plain.length).every((id) => id === 0)).toBe(true);
    expect(eotIndex[0]).toBe(plain.length - 1);
  });

  it('gives the same ids with and without the BPE cache, and caches repeated words', () => {
    const texts = cases.map((c) => c.text);
    const cached = texts.map((t) => tok.encode(t));
    const bare = ClipTokenizer.fromVocabMerges(
      JSON.parse(readFileSync(join(tokDir(), 'vocab.json'), 'utf8')) as Record<string, number>,
      readFileSync(join(tokDir(), 'merges.txt'), 'utf8').split('\n').slice(1),
    );
    bare.cacheEnabled = false;
    expect(texts.map((t) => bare.encode(t))).toEqual(cached);
  });

  it('maps ids back to tokens and rejects ids outside the vocabulary', () => {
    expect(tok.idToToken(1929)).toBe('dog</w>');
    expect(() => tok.idToToken(49408)).toThrow(/not in the vocabulary/);
  });

  it('encodeBatch truncates to a shorter length keeping EOT last', () => {
    const r = tok.encodeBatch(['a photo of a dog.'], { length: 5 });
    expect(r.ids[0]).toEqual([49406, 320, 1125, 539, 49407]);
    expect(r.truncated[0]).toBe(true);
    expect(r.eotIndex[0]).toBe(4);
  });
});

describe('ClipTokenizer.fromModelDir on the fixture models', () => {
  it.each(fixtureModelDirs())(
    'loads %s from tokenizer.json alone the same as from vocab.json + merges.txt',
    async (dir) => {
      const t = await ClipTokenizer.fromModelDir(dir);
      const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
        text: { prompts: string[]; input_ids: number[][]; pad_id: number; eot_index: number[]; truncated: boolean[] };
      };
      expect(t.padId).toBe(ref.text.pad_id);
      const r = t.encodeBatch(ref.text.prompts);
      expect(r.ids).toEqual(ref.text.input_ids);
      expect(r.eotIndex).toEqual(ref.text.eot_index);
      expect(r.truncated).toEqual(ref.text.truncated);
    },
  );
});
