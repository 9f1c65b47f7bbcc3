/**
 * @file Byte-level BPE for the demo CLIP: learned on the caption corpus, written in the Hugging Face
 * CLIP format (build script, plain Node).
 *
 * [Note: demo vocabulary layout] The ids follow OpenAI CLIP's layout exactly: the 256 byte symbols
 * in `bytes_to_unicode` order, the same 256 with `</w>`, then one token per merge in merge order,
 * then `<|startoftext|>` and `<|endoftext|>` as the two highest ids. So `vocab.json` +
 * `merges.txt` (+ `tokenizer.json`) load with the app's one CLIP tokenizer like any real model.
 */

/** OpenAI CLIP's pre-tokenizer pattern (after lower-casing and whitespace collapsing). */
export const CLIP_SPLIT =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;
/** Start-of-text token. */
export const SOT = '<|startoftext|>';
/** End-of-text token. */
export const EOT = '<|endoftext|>';

/** GPT-2/CLIP byte-to-symbol table, in the order CLIP lists the byte tokens. */
export function bytesToUnicode(): [number, string][] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  return bs.map((b, i) => [b, String.fromCodePoint(cs[i] ?? 0)]);
}

const BYTE_SYMBOL = new Map(bytesToUnicode());

/** Lower-cases, collapses whitespace and splits text into pre-tokens, as CLIP does (no ftfy). */
export function preTokenize(text: string): string[] {
  const clean = text.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
  return clean.match(CLIP_SPLIT) ?? [];
}

/** A word as byte symbols with `</w>` on the last one. */
function wordSymbols(word: string): string[] {
  const syms = [...new TextEncoder().encode(word)].map((b) => BYTE_SYMBOL.get(b) ?? '');
  const last = syms.length - 1;
  if (last >= 0) syms[last] = `${syms[last]}</w>`;
  return syms;
}

/** A learned BPE: the merge list (pairs of symbols) and the full CLIP-layout vocabulary. */
export interface Bpe {
  merges: [string, string][];
  vocab: Record<string, number>;
}

/**
 * Learns merges on a corpus: repeatedly merges the most frequent adjacent pair (ties broken by
 * the pair's text, so the result is deterministic) until no pair occurs `minCount` times or
 * `maxMerges` is reached.
 */
export function learnBpe(corpus: string[], opts: { maxMerges?: number; minCount?: number } = {}): Bpe {
  const maxMerges = opts.maxMerges ?? 2000;
  const minCount = opts.minCount ?? 2;
  const wordFreq = new Map<string, number>();
  for (const line of corpus) for (const w of preTokenize(line)) wordFreq.set(w, (wordFreq.get(w) ?? 0) + 1);
  const words = [...wordFreq.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([w, f]) => ({ syms: wordSymbols(w), f }));
  const merges: [string, string][] = [];
  while (merges.length < maxMerges) {
    const counts = new Map<string, number>();
    for (const { syms, f } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = `${syms[i]} ${syms[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + f);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, c] of counts) {
      if (c > bestCount || (c === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === null || bestCount < minCount) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    for (const w of words) w.syms = applyMerge(w.syms, a, b);
  }
  const vocab: Record<string, number> = {};
  let id = 0;
  const table = bytesToUnicode();
  for (const [, s] of table) vocab[s] = id++;
  for (const [, s] of table) vocab[`${s}</w>`] = id++;
  for (const [a, b] of merges) {
    const tok = a + b;
    if (!(tok in vocab)) vocab[tok] = id++;
  }
  vocab[SOT] = id++;
  vocab[EOT] = id++;
  return { merges, vocab };
}

function applyMerge(syms: string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < syms.length; i++) {
    if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
      out.push(a + b);
      i++;
    } else out.push(syms[i] ?? '');
  }
  return out;
}

/** Encodes text to ids `[SOT, ...content, EOT]` (content truncated to `contextLength - 2`). */
export function encodeWithBpe(bpe: Bpe, text: string, contextLength = 77): number[] {
  const ranks = new Map(bpe.merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const ids: number[] = [];
  for (const word of preTokenize(text)) {
    let syms = wordSymbols(word);
    for (;;) {
      let bestRank = Infinity;
      let pair: [string, string] | null = null;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = ranks.get(`${syms[i]} ${syms[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          pair = [syms[i] ?? '', syms[i + 1] ?? ''];
        }
      }
      if (!pair) break;
      syms = applyMerge(syms, pair[0], pair[1]);
    }
    for (const s of syms) {
      const id = bpe.vocab[s];
      if (id === undefined) throw new Error(`BPE symbol without an id: ${s}`);
      ids.push(id);
    }
  }
  const sot = bpe.vocab[SOT] ?? 0;
  const eot = bpe.vocab[EOT] ?? 0;
  return [sot, ...ids.slice(0, contextLength - 2), eot];
}

/** The files of a Hugging Face CLIP tokenizer for this BPE (name -> text). */
export function tokenizerFiles(bpe: Bpe, contextLength = 77): Record<string, string> {
  const sotId = bpe.vocab[SOT];
  const eotId = bpe.vocab[EOT];
  const special = (content: string) => ({
    __type: 'AddedToken',
    content,
    lstrip: false,
    normalized: true,
    rstrip: false,
    single_word: false,
  });
  const mergeLines = bpe.merges.map(([a, b]) => `${a} ${b}`);
  const tokenizerJson = {
    version: '1.0',
    truncation: { direction: 'Right', max_length: contextLength, strategy: 'LongestFirst', stride: 0 },
    padding: {
      strategy: { Fixed: contextLength },
      direction: 'Right',
      pad_to_multiple_of: null,
      pad_id: eotId,
      pad_type_id: 0,
      pad_token: EOT,
    },
    added_tokens: [SOT, EOT].map((content) => ({
      id: bpe.vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOT, eotId],
      cls: [SOT, sotId],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOT,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: bpe.vocab,
      merges: mergeLines,
    },
  };
  const tokenizerConfig = {
    add_prefix_space: false,
    bos_token: special(SOT),
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: special(EOT),
    errors: 'replace',
    model_max_length: contextLength,
    pad_token: EOT,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: special(EOT),
  };
  const specialTokens = { bos_token: special(SOT), eos_token: special(EOT), pad_token: EOT, unk_token: special(EOT) };
  return {
    'vocab.json': JSON.stringify(bpe.vocab),
    'merges.txt': ['#version: 0.2', ...mergeLines].join('\n') + '\n',
    'tokenizer.json': JSON.stringify(tokenizerJson, null, 2) + '\n',
    'tokenizer_config.json': JSON.stringify(tokenizerConfig, null, 2) + '\n',
    'special_tokens_map.json': JSON.stringify(specialTokens, null, 2) + '\n',
  };
}
