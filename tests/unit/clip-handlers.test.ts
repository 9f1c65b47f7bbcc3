/**
 * @file Tests of the CLIP operations through the engine (in-process transport): tokenize, embedText, embedImages, zeroShot.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { closeClipModels } from '../../electron/engine/clip/clip-model';
import { demoModelDir, resourcesDir } from '../../electron/engine/settings/paths';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

interface Ref {
  text: { prompts: string[]; input_ids: number[][]; text_embeds: number[][]; text_embeds_normalized: number[][] };
  vision: { images: { name: string; file: string }[]; image_embeds: number[][] };
  zero_shot: { argmax_prompt_per_image: number[] };
}

const engine = inProcessEngine();
const tmp = tempDir('coop-clip-ops-');
afterAll(async () => {
  await closeClipModels();
  await engine.cleanup();
  tmp.cleanup();
});

const maxAbs = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - (b[i]?.[j] ?? NaN)))));

describe.each(fixtureModelDirs())('CLIP operations on %s', (model) => {
  const ref = JSON.parse(readFileSync(join(model, 'reference.json'), 'utf8')) as Ref;

  it('tokenize pads with the model pad id like the reference; unpadded stops at EOT', async () => {
    const r = unwrap(await engine.client.call('tokenize', { model, texts: ref.text.prompts }));
    expect(r.ids).toEqual(ref.text.input_ids);
    const u = unwrap(await engine.client.call('tokenize', { model, texts: ['a photo of a dog.'], pad: false }));
    expect(u.ids).toEqual([[49406, 320, 1125, 539, 320, 1929, 269, 49407]]);
  });

  it('embedText returns raw or normalised text_embeds within 1e-4', async () => {
    const raw = unwrap(await engine.client.call('embedText', { model, texts: ref.text.prompts }));
    expect(raw.provider).toBe('cpu');
    expect(maxAbs(raw.embeddings, ref.text.text_embeds)).toBeLessThan(1e-4);
    const norm = unwrap(await engine.client.call('embedText', { model, texts: ref.text.prompts, normalize: true }));
    expect(maxAbs(norm.embeddings, ref.text.text_embeds_normalized)).toBeLessThan(1e-4);
  });

  it('embedImages embeds the reference images within 1e-4 and reports a bad file with progress events', async () => {
    const bad = join(tmp.path, 'broken.jpg');
    writeFileSync(bad, 'not a jpeg');
    const files = [...ref.vision.images.map((im) => join(model, im.file)), bad];
    const events: number[] = [];
    const r = unwrap(
      await engine.client.call(
        'embedImages',
        { model, files, batchSize: 4 },
        { onProgress: (e) => events.push(e.done) },
      ),
    );
    expect(maxAbs(r.embeddings.slice(0, -1) as number[][], ref.vision.image_embeds)).toBeLessThan(1e-4);
    expect(r.embeddings.at(-1)).toBeNull();
    expect(r.errors).toEqual([{ file: bad, reason: expect.stringMatching(/not an image/) as unknown as string }]);
    expect(events.at(-1)).toBe(files.length);
  });

  it('zeroShot classifies like the reference logits (100 * cos) and reports per-class accuracy', async () => {
    // Class folders named after reference prompts, template "{}": the predicted class of each image is
    // the reference argmax over prompts (argmax is always among the folders used here).
    const data = join(
      tmp.path,
      `ds-${ref.vision.images.length}-${model.length}-${Math.random().toString(36).slice(2)}`,
    );
    const placement = [0, 0, 0, 1, 2, 4];
    ref.vision.images.forEach((im, i) => {
      const cls = ref.text.prompts[placement[i] ?? 0] ?? '';
      mkdirSync(join(data, cls), { recursive: true });
      copyFileSync(join(model, im.file), join(data, cls, `${im.name}.png`));
    });
    writeFileSync(join(data, 'README.txt'), 'not a class');
    const r = unwrap(await engine.client.call('zeroShot', { model, data, template: '{}' }));
    const argmax = ref.zero_shot.argmax_prompt_per_image;
    const expectCorrect = placement.filter((p, i) => argmax[i] === p).length;
    expect(r.total).toBe(6);
    expect(r.correct).toBe(expectCorrect);
    expect(r.accuracy).toBeCloseTo(expectCorrect / 6, 10);
    expect(r.logitScale).toBe(100);
    for (const c of r.classes) {
      const idx = ref.text.prompts.indexOf(c.name);
      const members = placement.flatMap((p, i) => (p === idx ? [i] : []));
      expect(c.total).toBe(members.length);
      expect(c.correct).toBe(members.filter((i) => argmax[i] === idx).length);
      expect(c.accuracy).toBeGreaterThanOrEqual(0);
      expect(c.accuracy).toBeLessThanOrEqual(1);
    }
    expect(r.skipped).toEqual([{ path: join(data, 'README.txt'), reason: 'not inside a class folder' }]);
  });
});

describe('zeroShot on a project', () => {
  it('equals zeroShot on the folder it was imported from, and wants exactly one data source', async () => {
    const data = join(tmp.path, 'project-source');
    for (const cls of ['plain', 'striped', 'dotted']) {
      const from = join(resourcesDir(), 'samples', 'backgrounds', cls);
      mkdirSync(join(data, cls), { recursive: true });
      for (const f of readdirSync(from).sort().slice(0, 4)) copyFileSync(join(from, f), join(data, cls, f));
    }
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'Zero-shot estimate' })).id;
    unwrap(await engine.client.call('projectImportData', { projectId, sources: [data], thumbnails: false }));
    const byFolder = unwrap(await engine.client.call('zeroShot', { data }));
    const byProject = unwrap(await engine.client.call('zeroShot', { project: projectId }));
    expect(byProject.total).toBe(12);
    expect(byProject.classes.map((c) => [c.name, c.correct, c.total])).toEqual(
      byFolder.classes.map((c) => [c.name, c.correct, c.total]),
    );
    const both = await engine.client.call('zeroShot', { data, project: projectId });
    expect(both).toMatchObject({ ok: false, error: { code: 'bad_args' } });
  });
});

describe('CLIP operations: arguments and defaults', () => {
  it('rejects a template without {} and a model folder that does not exist', async () => {
    const t = await engine.client.call('zeroShot', { data: tmp.path, template: 'a photo' });
    expect(t).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    const m = await engine.client.call('embedText', { model: join(tmp.path, 'no-model'), texts: ['x'] });
    expect(m).toMatchObject({ ok: false, error: { code: 'invalid_model' } });
  });

  it.runIf(existsSync(demoModelDir()))('uses the embedded demo model when no model is given', async () => {
    const r = unwrap(await engine.client.call('embedText', { texts: ['a photo of a dog.'] }));
    expect(r.modelDir).toBe(demoModelDir());
    expect(r.embeddings[0]?.length).toBe(r.dim);
  });
});
