/**
 * @file Tests of the `coop-studio models ...` commands, run as a user would (built CLI, local hub-like server).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstalledModel, ModelsListing } from '../../shared/contract/models';
import { appRoot } from '../../electron/engine/settings/paths';
import { tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { startHfServer, type HfServer } from './models-hf-server';

const fixture = fixtureModelDirs().find((d) => d.endsWith('hf-tiny-op14')) ?? '';
const dataDir = tempDir('coop-cli-models-');
let server: HfServer;

beforeAll(async () => {
  server = await startHfServer({ 'test/hf-tiny-op14': fixture });
});
afterAll(async () => {
  await server.close();
  dataDir.cleanup();
});

/** Runs the built CLI asynchronously (the test's HTTP server must keep answering meanwhile). */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(appRoot(), 'bin', 'coop-studio.js'), ...args],
      { env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir.path, COOP_STUDIO_HF_ENDPOINT: '' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

// Each command starts an engine worker (seconds on a loaded machine), so these tests get a longer limit.
describe('coop-studio models', { timeout: 180_000 }, () => {
  it('downloads, lists, activates and removes a model, one JSON object on stdout each time', async () => {
    const dl = await cli('models', 'download', '--repo', 'test/hf-tiny-op14', '--endpoint', server.endpoint, '--json');
    expect(dl.code, dl.stderr).toBe(0);
    expect(dl.stdout.trim().split('\n')).toHaveLength(1);
    const model = JSON.parse(dl.stdout) as InstalledModel;
    expect(model).toMatchObject({ id: 'test--hf-tiny-op14--main--fp32', source: 'download', problem: null });
    // Progress goes to stderr: a line per file at least.
    expect(dl.stderr).toContain('onnx/text_model.onnx');
    expect(dl.stderr).toMatch(/\d+%/);

    const use = await cli('models', 'use', model.id, '--json');
    expect(use.code, use.stderr).toBe(0);
    const list = await cli('models', 'list', '--json');
    const listing = JSON.parse(list.stdout) as ModelsListing;
    expect(listing.activeId).toBe(model.id);
    expect(listing.installed.map((m) => m.id)).toContain(model.id);
    expect(listing.catalogue.map((c) => c.repo)).toContain('Xenova/clip-vit-large-patch14');

    const human = await cli('models', 'list');
    expect(human.stdout).toMatch(new RegExp(`\\* ${model.id}`));
    expect(human.stdout).toContain('Xenova/clip-vit-base-patch32');

    const rm = await cli('models', 'remove', model.id, '--json');
    expect(rm.code, rm.stderr).toBe(0);
    expect(JSON.parse(rm.stdout)).toEqual({ removed: model.id, activeId: 'demo-clip' });
  });

  it('imports a folder by reference and reports bad input as JSON errors', async () => {
    const imp = await cli('models', 'import', fixture, '--reference', '--variant', 'fp16', '--json');
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ id: 'local--hf-tiny-op14--fp16', dir: fixture });

    const noRepo = await cli('models', 'download', '--json');
    expect(noRepo.code).toBe(2);
    expect(JSON.parse(noRepo.stdout)).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    const badVariant = await cli('models', 'download', 'a/b', '--variant', 'int4', '--json');
    expect(JSON.parse(badVariant.stdout).error.message).toContain('--variant');
    const missing = await cli('models', 'download', 'nobody/nothing', '--endpoint', server.endpoint, '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('sets and resets the endpoint setting', async () => {
    const set = await cli('models', 'endpoint', server.endpoint, '--json');
    expect(JSON.parse(set.stdout)).toEqual({ endpoint: server.endpoint, source: 'setting' });
    const reset = await cli('models', 'endpoint', '--reset', '--json');
    expect(JSON.parse(reset.stdout)).toEqual({ endpoint: 'https://huggingface.co', source: 'default' });
  });
});
