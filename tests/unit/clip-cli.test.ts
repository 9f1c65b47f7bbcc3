/**
 * @file CLI tests of `tokenize`, `embed-text`, `embed-images` and `zero-shot`, spawned like a user runs them.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appRoot } from '../../electron/engine/settings/paths';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const dataDir = tempDir('coop-clip-cli-');
afterAll(() => dataDir.cleanup());
const model = fixtureModelDirs()[0] ?? '';
const ref = JSON.parse(readFileSync(join(model, 'reference.json'), 'utf8')) as {
  text: { prompts: string[]; text_embeds: number[][] };
  vision: { images: { name: string; file: string }[]; image_embeds: number[][] };
};

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir.path },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: { code: number | null; stdout: string; stderr: string }): T {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as T;
}

const maxAbs = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - (b[i]?.[j] ?? NaN)))));

describe('coop-studio CLIP commands', () => {
  it('tokenize --json prints the ids, padded to the context length', () => {
    const r = json<{ ids: number[][] }>(cli('tokenize', '--model', model, '--json', 'a photo of a dog.'));
    expect(r.ids[0]?.slice(0, 8)).toEqual([49406, 320, 1125, 539, 320, 1929, 269, 49407]);
    expect(r.ids[0]).toHaveLength(77);
  });

  it('embed-text --json reproduces the reference text embeddings within 1e-4', () => {
    const r = json<{ embeddings: number[][] }>(
      cli('embed-text', '--model', model, '--json', ...ref.text.prompts.slice(0, 3)),
    );
    expect(maxAbs(r.embeddings, ref.text.text_embeds.slice(0, 3))).toBeLessThan(1e-4);
  });

  it('embed-images --json embeds good files and lists bad ones with a reason', () => {
    const bad = join(dataDir.path, 'empty.jpg');
    writeFileSync(bad, '');
    const files = ref.vision.images.map((im) => join(model, im.file));
    const r = json<{ embeddings: (number[] | null)[]; errors: { file: string; reason: string }[] }>(
      cli('embed-images', '--model', model, '--json', ...files, bad),
    );
    expect(maxAbs(r.embeddings.slice(0, -1) as number[][], ref.vision.image_embeds)).toBeLessThan(1e-4);
    expect(r.errors).toEqual([{ file: bad, reason: 'the file is empty' }]);
  });

  it('zero-shot --json prints fractions per class and overall, progress on stderr', () => {
    const data = join(dataDir.path, 'ds');
    ref.vision.images.forEach((im, i) => {
      const cls = i % 2 === 0 ? 'red_circle' : 'blue-square';
      mkdirSync(join(data, cls), { recursive: true });
      copyFileSync(join(model, im.file), join(data, cls, `${im.name}.png`));
    });
    const out = cli('zero-shot', '--data', data, '--model', model, '--json');
    const r = json<{
      accuracy: number;
      classes: { name: string; prompt: string; accuracy: number; total: number }[];
      total: number;
    }>(out);
    expect(r.classes.map((c) => [c.name, c.prompt, c.total])).toEqual([
      ['blue-square', 'blue square', 3],
      ['red_circle', 'red circle', 3],
    ]);
    expect(r.total).toBe(6);
    for (const x of [r.accuracy, ...r.classes.map((c) => c.accuracy)]) expect(x >= 0 && x <= 1).toBe(true);
    expect(out.stderr).toMatch(/embedding images 6\/6/);
  });

  it('fails with a clear invalid_model error for a folder that is not a model', () => {
    const r = cli('embed-text', '--model', dataDir.path, '--json', 'x');
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_model' } });
  });
});
