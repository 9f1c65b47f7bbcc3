/**
 * @file Prompt tokenisations carried to a learner that has no tokenizer files: the compute window's page and the
 * shard threads (engine worker, shard threads or browser; pure TypeScript).
 */
import { AppError } from '../../../shared/result';
import type { PromptTokenizer } from './prompt-learner';

/** The prompt learner's tokenisations, computed by the engine: every text the learner will encode, with its ids. */
export interface TokenTable {
  sotId: number;
  eotId: number;
  encodings: [text: string, ids: number[]][];
}

/** Every text the prompt learner tokenises, with its ids. */
export function tokenTable(tokenizer: PromptTokenizer, prompts: string[], ctxInit?: string): TokenTable {
  const texts = new Set([...prompts, ...prompts.map((p) => p.trim()), '.']);
  if (ctxInit?.trim()) texts.add(ctxInit.trim());
  return {
    sotId: tokenizer.sotId,
    eotId: tokenizer.eotId,
    encodings: [...texts].map((t) => [t, tokenizer.encode(t)]),
  };
}

/** A tokenizer that only knows the texts the engine tokenised for this run. */
export function tokenTableTokenizer(table: TokenTable): PromptTokenizer {
  const map = new Map(table.encodings);
  return {
    sotId: table.sotId,
    eotId: table.eotId,
    encode(text) {
      const ids = map.get(text);
      if (!ids) throw new AppError('bad_args', `The engine did not tokenise "${text}" for this learner.`);
      return ids;
    },
    idToToken: (id) => `<${id}>`,
  };
}
