/**
 * @file Tests of the demo-model build's synthetic world and BPE learner (scripts/demo-model).
 */
import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../electron/engine/clip/tokenizer';
import { EOT, SOT, bytesToUnicode, encodeWithBpe, learnBpe, tokenizerFiles } from '../../scripts/demo-model/bpe';
import { Rng } from '../../scripts/demo-model/rng';
import {
  PLURAL_OF,
  SHAPES,
  captionScene,
  captionVocabularyText,
  randomScene,
  renderScene,
} from '../../scripts/demo-model/world';

describe('synthetic world', () => {
  it('draws the same scenes, captions and pixels from the same seed', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 5 }, () => {
        const s = randomScene(rng);
        return { caption: captionScene(s, rng), pixels: Buffer.from(renderScene(s, 32)).toString('base64') };
      });
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });

  it('always names the shape in the caption', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 300; i++) {
      const s = randomScene(rng);
      const words = captionScene(s, rng).replace('.', '').split(' ');
      expect(words.includes(s.shape) || words.includes(PLURAL_OF[s.shape])).toBe(true);
    }
  });

  it('honours pinned attributes and draws the object in its colour', () => {
    const rng = new Rng(2);
    for (const shape of SHAPES) {
      const s = randomScene(rng, {
        shape,
        colour: 'red',
        background: 'plain',
        size: 'large',
        count: 1,
        position: 'center',
        style: 'solid',
      });
      expect(s.shape).toBe(shape);
      const px = renderScene(s, 48);
      const centre = (24 * 48 + 24) * 3;
      expect(px[centre]).toBeGreaterThan(180);
      expect(px[centre + 1]).toBeLessThan(80);
    }
  });
});

describe('BPE learner', () => {
  const rng = new Rng(7);
  const corpus = [captionVocabularyText(), ...Array.from({ length: 500 }, () => captionScene(randomScene(rng), rng))];
  const bpe = learnBpe(corpus, { minCount: 1 });

  it('lays out ids like OpenAI CLIP: bytes, bytes with </w>, merges, then SOT and EOT', () => {
    const table = bytesToUnicode();
    expect(table.length).toBe(256);
    expect(bpe.vocab[table[0]?.[1] ?? '']).toBe(0);
    expect(bpe.vocab[`${table[255]?.[1] ?? ''}</w>`]).toBe(511);
    const n = Object.keys(bpe.vocab).length;
    expect(bpe.vocab[SOT]).toBe(n - 2);
    expect(bpe.vocab[EOT]).toBe(n - 1);
    expect(n).toBeGreaterThan(1000);
    expect(learnBpe(corpus, { minCount: 1 })).toEqual(bpe);
  });

  it('encodes like the app tokenizer, also on text outside the corpus', () => {
    const files = tokenizerFiles(bpe);
    const merges = (files['merges.txt'] ?? '')
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0);
    const tok = ClipTokenizer.fromVocabMerges(
      JSON.parse(files['vocab.json'] ?? '{}') as Record<string, number>,
      merges,
    );
    for (const text of [
      ...corpus.slice(1, 40),
      'A  PHOTO of   a Zebra!!',
      "it's 42 °C — naïve café",
      'x'.repeat(200),
    ]) {
      expect(encodeWithBpe(bpe, text)).toEqual(tok.encode(text));
    }
  });
});
