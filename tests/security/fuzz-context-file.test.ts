/**
 * @file Fuzz test of the context file reader (safetensors + metadata): seeded byte-level mutations of a valid file
 * and JSON-level mutations of its header, each read back from disk (see [Note: fuzz oracle]).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeContextFile, readContextFile } from '../../electron/engine/formats/context-file';
import { tempDir } from '../helpers/engine';
import { contextMeta } from './files-craft';
import { expectClearError, filesBelow, fuzz, mutateBytes, mutateJson } from './fuzz-kit';

const tmp = tempDir('coop-fuzz-ctx-');
afterAll(() => tmp.cleanup());

const valid = encodeContextFile({
  ctx: Float32Array.from({ length: 2 * 4 * 8 }, (_, i) => Math.sin(i)),
  shape: [2, 4, 8],
  meta: { ...contextMeta(['cat', 'dog']), csc: true },
});
const headerLen = Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));
const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLen))) as unknown;
const data = valid.subarray(8 + headerLen);

function withHeader(h: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h) ?? 'null');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

async function readCase(bytes: Uint8Array, label: string): Promise<void> {
  const file = join(tmp.path, 'case.safetensors');
  writeFileSync(file, bytes);
  const thrown = await readContextFile(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expectClearError(thrown, label);
}

describe('fuzz: context files', () => {
  it('byte-level mutations of a valid file: a clear error or success', async () => {
    const ran = await fuzz({ seed: 1, count: 600, budgetMs: 30_000 }, (rng, label) =>
      readCase(mutateBytes(valid, rng, 3, rng.next() < 0.7 ? { from: 0, to: 8 + headerLen } : undefined), label),
    );
    expect(ran).toBeGreaterThan(50);
    expect(filesBelow(tmp.path)).toEqual(['case.safetensors']);
  });

  it('JSON-level mutations of the header and its metadata: a clear error or success', async () => {
    const escape = '../'.repeat(12) + 'escaped';
    const ran = await fuzz({ seed: 2, count: 300, budgetMs: 30_000 }, (rng, label) => {
      const h = mutateJson(header, rng, escape) as Record<string, unknown> | null;
      // Half the time, mutate inside the string-encoded metadata values too (as a hand-edited file would).
      const md = h && typeof h === 'object' ? (h['__metadata__'] as Record<string, unknown> | undefined) : undefined;
      if (md && typeof md === 'object' && rng.next() < 0.5) {
        const key = rng.pick(['model', 'tokenizer', 'classNames', 'prompts', 'metrics', 'nearestTokens']);
        if (typeof md[key] === 'string') {
          try {
            md[key] = JSON.stringify(mutateJson(JSON.parse(md[key]), rng, escape));
          } catch {
            // Already not JSON: leave it.
          }
        }
      }
      return readCase(withHeader(h), label);
    });
    expect(ran).toBeGreaterThan(50);
  });
});
