/**
 * @file One model resolver for every operation that runs a CLIP model (plain Node, in-process engine and the built
 * CLI): an installed model's id, a folder, or (nothing given) the active model. See [Note: one model resolver].
 */
import { execFile } from 'node:child_process';
import { dirname, basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../shared/result';
import { appRoot } from '../../electron/engine/settings/paths';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const fixture = fixtureModelDirs().find((d) => d.endsWith('hf-tiny-op14')) ?? '';
const engine = inProcessEngine();
const tmp = tempDir('coop-resolve-');
const data = join(tmp.path, 'data');
const ID = 'local--tiny--fp32';
let installedDir = '';

beforeAll(async () => {
  await writeColourDataset(data, 8, 3);
  const m = unwrap(await engine.client.call('modelsImport', { path: fixture, name: 'tiny', activate: true }));
  installedDir = m.dir;
}, 60_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

/** Runs the built CLI over the engine's data folder (asynchronously, so several can run). */
function cli(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(appRoot(), 'bin', 'coop-studio.js'), ...args],
      { cwd, env: { ...process.env, COOP_STUDIO_DATA_DIR: engine.dataDir }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('the model a request names', { timeout: 180_000 }, () => {
  it('is the active model when none is given, for every operation that runs a model', async () => {
    const c = engine.client;
    expect(installedDir).toBe(join(engine.dataDir, 'models', ID));
    expect(unwrap(await c.call('embedText', { texts: ['a'] })).modelDir).toBe(installedDir);
    expect(unwrap(await c.call('checkModel', { backend: 'cpu' })).modelDir).toBe(installedDir);
    expect(unwrap(await c.call('zeroShot', { data })).modelDir).toBe(installedDir);
    const learned = unwrap(
      await c.call('learn', { data, shots: 2, epochs: 1, nCtx: 2, backend: 'cpu', out: join(tmp.path, 'run') }),
    );
    expect(learned.model.dir).toBe(installedDir);
    const images = [join(data, 'red_thing', '0.png')];
    expect(unwrap(await c.call('predict', { classes: ['red', 'blue'], images })).model.dir).toBe(installedDir);
    const ev = unwrap(await c.call('evaluate', { data, context: learned.contextPath, backend: 'cpu' }));
    expect(ev.model.dir).toBe(installedDir);
    const cmp = unwrap(await c.call('compare', { data, methods: ['zs'], shots: [1], seeds: [1] }));
    expect(cmp.model.dir).toBe(installedDir);
    // The tokenizer of the active model (the fixture's tokenizer is the real CLIP vocabulary, like the demo's).
    expect(unwrap(await c.call('tokenize', { texts: ['a photo'] })).contextLength).toBe(77);
    // The experiment bench too.
    const map = unwrap(await c.call('similarityMap', { image: images[0] ?? '', classes: ['red', 'blue'] }));
    expect(map.model.dir).toBe(installedDir);
    const b2n = unwrap(await c.call('baseToNew', { data, methods: ['zs'], shots: 1, seeds: [1] }));
    expect(b2n.models.map((m) => m.dir)).toEqual([installedDir]);
  });

  it('takes an installed id or a folder, and names the installed ids for a word that is neither', async () => {
    const c = engine.client;
    unwrap(await c.call('modelsSetActive', { id: 'demo-clip' }));
    try {
      expect(unwrap(await c.call('embedText', { texts: ['a'], model: ID })).modelDir).toBe(installedDir);
      expect(unwrap(await c.call('embedText', { texts: ['a'], model: fixture })).modelDir).toBe(fixture);
      const missing = await c.call('embedText', { texts: ['a'], model: 'no-such-model' });
      expect(missing.ok ? null : missing.error).toMatchObject({ code: 'not_found' });
      if (!missing.ok) expect(missing.error.message).toContain(ID);
    } finally {
      unwrap(await c.call('modelsSetActive', { id: ID }));
    }
  });

  it('CLI: --model ID, no --model (the active one), a folder relative to the working folder, and `models list` folders', async () => {
    const [byId, active, relative, listed] = await Promise.all([
      cli(tmp.path, 'embed-text', '--model', ID, '--json', 'a photo'),
      cli(tmp.path, 'embed-text', '--json', 'a photo'),
      cli(dirname(fixture), 'embed-text', '--model', basename(fixture), '--json', 'a photo'),
      cli(tmp.path, 'models', 'list', '--installed'),
    ]);
    expect(JSON.parse(byId.stdout).modelDir, byId.stderr).toBe(installedDir);
    expect(JSON.parse(active.stdout).modelDir, active.stderr).toBe(installedDir);
    expect(JSON.parse(relative.stdout).modelDir, relative.stderr).toBe(fixture);
    expect(listed.stdout).toContain(`folder: ${installedDir}`);
    expect(listed.stdout).toMatch(new RegExp(`\\* ${ID}`));
  });
});
