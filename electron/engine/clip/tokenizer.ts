/**
 * @file CLIP's byte-level BPE tokenizer, byte-exact with OpenAI's `simple_tokenizer` minus ftfy (engine, plain Node).
 *
 * [Note: CLIP tokenizer] The text goes through OpenAI's `basic_clean` (HTML-unescape twice, strip)
 * and `whitespace_clean` (collapse Python's `\s` to one space), is lower-cased, split with CLIP's
 * pre-split regex, mapped byte by byte to printable characters (GPT-2's byte-to-unicode table) and
 * merged with the BPE merge ranks, the last symbol of every word carrying `</w>`. The literal texts
 * `<|startoftext|>` / `<|endoftext|>` become their special ids, as in OpenAI's tokenizer. ftfy is
 * not applied (the fixtures' reference does the same; their `ftfy_sensitive` cases are the strings
 * where ftfy would change the text first).
 *
 * [Note: whitespace classes] Python's `\s` (str.isspace) and JavaScript's `\s` differ: Python also
 * counts U+001C..U+001F and U+0085, JavaScript also counts U+FEFF. We spell Python's set out.
 *
 * [Note: pad by id] Padding is applied to id arrays after tokenizing, never by mapping a pad
 * *token* through the vocabulary: models that pad with "!" (id 0) would otherwise turn every "!"
 * of a prompt into padding. `padId` is the id of the model's declared pad token (49407 for the
 * Hugging Face CLIP exports, 0 for OpenAI's `clip.tokenize`); the text encoders pool at the EOT and
 * use a causal mask, so the choice does not change the embeddings.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quoted } from '../../../shared/describe-input';
import { AppError } from '../../../shared/result';
import { htmlUnescape } from './html-unescape';

const SOT_TEXT = '<|startoftext|>';
const EOT_TEXT = '<|endoftext|>';

/** Python's whitespace (see [Note: whitespace classes]). */
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WS_RUN = new RegExp(`[${PY_WS}]+`, 'g');
const WS_EDGES = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');
/** CLIP's pre-split pattern (OpenAI `simple_tokenizer.pat`). */
const PRE_SPLIT = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${PY_WS}\\p{L}\\p{N}]+`,
  'gu',
);

/** GPT-2's reversible byte -> printable character table. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const table: string[] = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}
const BYTE_TO_CHAR = bytesToUnicode();
const utf8 = new TextEncoder();

/** OpenAI's `basic_clean` (without ftfy) + `whitespace_clean` + lower-casing. */
export function cleanText(text: string): string {
  const unescaped = htmlUnescape(htmlUnescape(text)).replace(WS_EDGES, '');
  return unescaped.replace(WS_RUN, ' ').replace(WS_EDGES, '').toLowerCase();
}

/** Options of {@link ClipTokenizer.fromVocabMerges}. */
export interface TokenizerOptions {
  contextLength?: number;
  /** Id used by `encodeBatch` to pad (default: the EOT id, the Hugging Face convention). */
  padId?: number;
}

/** A CLIP BPE tokenizer over one vocabulary (see [Note: CLIP tokenizer]). */
export class ClipTokenizer {
  readonly sotId: number;
  readonly eotId: number;
  readonly contextLength: number;
  readonly vocabSize: number;
  /** The model's pad id, used by `encodeBatch` unless overridden (see [Note: pad by id]). */
  readonly padId: number;
  private readonly vocab: Map<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly idToTok: string[];
  private readonly cache = new Map<string, string[]>();
  /** Whether the BPE cache is used (benchmarks turn it off to measure the bare merge loop). */
  cacheEnabled = true;

  private constructor(vocab: Map<string, number>, merges: string[], opts: TokenizerOptions) {
    this.vocab = vocab;
    this.ranks = new Map();
    merges.forEach((m, i) => {
      if (m.length > 0 && !this.ranks.has(m)) this.ranks.set(m, i);
    });
    const sot = vocab.get(SOT_TEXT);
    const eot = vocab.get(EOT_TEXT);
    if (sot === undefined || eot === undefined)
      throw new AppError('invalid_model', `The tokenizer vocabulary lacks ${sot === undefined ? SOT_TEXT : EOT_TEXT}.`);
    this.sotId = sot;
    this.eotId = eot;
    this.contextLength = opts.contextLength ?? 77;
    if (!Number.isInteger(this.contextLength) || this.contextLength < 2)
      throw new AppError(
        'invalid_model',
        `The context length must be a whole number of at least 2, got ${this.contextLength}.`,
      );
    this.padId = opts.padId ?? eot;
    this.idToTok = [];
    let max = -1;
    for (const [tok, id] of vocab) {
      this.idToTok[id] = tok;
      if (id > max) max = id;
    }
    this.vocabSize = max + 1;
  }

  /** Builds a tokenizer from a vocabulary and merge lines ("a b", without the `#version` header). */
  static fromVocabMerges(vocab: Record<string, number>, merges: string[], opts: TokenizerOptions = {}): ClipTokenizer {
    return new ClipTokenizer(new Map(Object.entries(vocab)), merges, opts);
  }

  /**
   * Loads the tokenizer of a Hugging Face model folder: `tokenizer.json`, or `vocab.json` + `merges.txt`.
   * The context length comes from the argument, else `config.json`'s text `max_position_embeddings`, else 77.
   */
  static async fromModelDir(dir: string, contextLength?: number): Promise<ClipTokenizer> {
    const readJson = async (name: string): Promise<unknown> => {
      try {
        return JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
      } catch (e) {
        throw new AppError('invalid_model', `${name} in ${dir} is not valid JSON (${(e as Error).message}).`);
      }
    };
    let vocab: Record<string, number>;
    let merges: string[];
    if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) {
      vocab = vocabulary(await readJson('vocab.json'), `vocab.json in ${dir}`);
      merges = (await readFile(join(dir, 'merges.txt'), 'utf8')).split('\n').filter((l) => !l.startsWith('#version'));
      merges = merges.map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
    } else if (existsSync(join(dir, 'tokenizer.json'))) {
      const t = (await readJson('tokenizer.json')) as { model?: { vocab?: unknown; merges?: unknown } };
      if (!t.model || typeof t.model.vocab !== 'object' || !Array.isArray(t.model.merges))
        throw new AppError(
          'invalid_model',
          `tokenizer.json in ${dir} is not a BPE tokenizer (no model.vocab / model.merges).`,
        );
      vocab = vocabulary(t.model.vocab, `tokenizer.json in ${dir}`);
      merges = mergeLines(t.model.merges as unknown[], `tokenizer.json in ${dir}`);
    } else {
      throw new AppError(
        'invalid_model',
        `The model folder ${dir} has no tokenizer.json and no vocab.json + merges.txt.`,
      );
    }
    const ctx = contextLength ?? (await textContextLength(dir)) ?? 77;
    const padId = await declaredPadId(dir, vocab);
    return ClipTokenizer.fromVocabMerges(vocab, merges, {
      contextLength: ctx,
      ...(padId !== undefined ? { padId } : {}),
    });
  }

  /** The content BPE tokens of `text` (with `</w>`), without SOT/EOT. */
  bpeTokens(text: string): string[] {
    const out: string[] = [];
    for (const m of cleanText(text).matchAll(PRE_SPLIT)) {
      const word = m[0];
      if (word === SOT_TEXT || word === EOT_TEXT) {
        out.push(word);
        continue;
      }
      let mapped = '';
      for (const b of utf8.encode(word)) mapped += BYTE_TO_CHAR[b];
      for (const t of this.bpe(mapped)) out.push(t);
    }
    return out;
  }

  /** `[SOT, ...content ids, EOT]`, truncated to the context length keeping EOT last; no padding. */
  encode(text: string): number[] {
    const ids = [this.sotId];
    for (const t of this.bpeTokens(text)) ids.push(this.vocab.get(t) ?? this.eotId);
    ids.push(this.eotId);
    if (ids.length > this.contextLength) {
      ids.length = this.contextLength;
      ids[this.contextLength - 1] = this.eotId;
    }
    return ids;
  }

  /** Encodes and pads to `length` (default: the context length) with `padId` (default: the model's pad id). */
  encodeBatch(
    texts: string[],
    opts: { padId?: number; length?: number } = {},
  ): { ids: number[][]; eotIndex: number[]; truncated: boolean[] } {
    const length = opts.length ?? this.contextLength;
    if (!Number.isInteger(length) || length < 2)
      throw new AppError('bad_args', `The padded length must be a whole number of at least 2, got ${length}.`);
    const padId = opts.padId ?? this.padId;
    const ids: number[][] = [];
    const eotIndex: number[] = [];
    const truncated: boolean[] = [];
    for (const text of texts) {
      const content = this.bpeTokens(text);
      const row = [this.sotId];
      for (const t of content) row.push(this.vocab.get(t) ?? this.eotId);
      row.push(this.eotId);
      const limit = Math.min(length, this.contextLength);
      const cut = row.length > limit;
      if (cut) {
        row.length = limit;
        row[limit - 1] = this.eotId;
      }
      eotIndex.push(row.length - 1);
      truncated.push(cut);
      while (row.length < length) row.push(padId);
      ids.push(row);
    }
    return { ids, eotIndex, truncated };
  }

  /** The vocabulary token of an id (throws `bad_args` for an id outside the vocabulary). */
  idToToken(id: number): string {
    const t = this.idToTok[id];
    if (t === undefined)
      throw new AppError('bad_args', `Token id ${id} is not in the vocabulary (size ${this.vocabSize}).`);
    return t;
  }

  /** The id of a vocabulary token, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Byte-pair merges of one pre-token (already byte-mapped), OpenAI's loop with a cache. */
  private bpe(token: string): string[] {
    const hit = this.cacheEnabled ? this.cache.get(token) : undefined;
    if (hit) return hit;
    const chars = Array.from(token);
    let word = chars.slice(0, -1);
    word.push(`${chars[chars.length - 1] ?? ''}</w>`);
    while (word.length > 1) {
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < best) {
          best = r;
          first = word[i] ?? '';
          second = word[i + 1] ?? '';
        }
      }
      if (best === Infinity) break;
      const next: string[] = [];
      for (let i = 0; i < word.length;) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(word[i] ?? '');
          i += 1;
        }
      }
      word = next;
    }
    if (this.cacheEnabled) {
      // Bound the cache so that a stream of unique strings cannot grow it without limit.
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(token, word);
    }
    return word;
  }
}

function invalidModel(message: string): AppError {
  return new AppError('invalid_model', message);
}

/** A token -> id map whose ids are whole numbers the text encoder can look up; throws `invalid_model`. */
function vocabulary(v: unknown, where: string): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidModel(`${where} has no vocabulary (a map from tokens to ids).`);
  for (const [token, id] of Object.entries(v))
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= 2 ** 31)
      throw invalidModel(`${where} maps the token ${quoted(token)} to ${quoted(id)}, which is not a token id.`);
  return v as Record<string, number>;
}

/** BPE merges as "a b" lines: strings, or the [a, b] pairs newer tokenizers write; throws `invalid_model`. */
function mergeLines(merges: readonly unknown[], where: string): string[] {
  return merges.map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && m.every((x) => typeof x === 'string')) return m.join(' ');
    throw invalidModel(`${where} has a merge rule (number ${i}) that is not two tokens: ${quoted(m)}.`);
  });
}

async function readJsonIfExists(path: string): Promise<Record<string, unknown> | undefined> {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `config.json`'s text context length, if it declares one. */
async function textContextLength(dir: string): Promise<number | undefined> {
  const cfg = await readJsonIfExists(join(dir, 'config.json'));
  const text = cfg?.['text_config'] as Record<string, unknown> | undefined;
  const n = text?.['max_position_embeddings'] ?? cfg?.['max_position_embeddings'];
  return typeof n === 'number' && Number.isInteger(n) && n >= 2 ? n : undefined;
}

/** The id of the pad token declared in `tokenizer_config.json` / `special_tokens_map.json` (see [Note: pad by id]). */
async function declaredPadId(dir: string, vocab: Record<string, number>): Promise<number | undefined> {
  for (const name of ['tokenizer_config.json', 'special_tokens_map.json']) {
    const cfg = await readJsonIfExists(join(dir, name));
    const pad = cfg?.['pad_token'];
    const content = typeof pad === 'string' ? pad : (pad as { content?: unknown } | undefined)?.content;
    if (typeof content === 'string' && Object.prototype.hasOwnProperty.call(vocab, content)) return vocab[content];
  }
  return undefined;
}
