/**
 * @file Exports of a learning run and prediction with its context, through the in-process engine on a tiny fixture
 * CLIP model and a generated dataset (plain Node, tfjs cpu backend): the exported context evaluated from a fresh data
 * folder gives the run's accuracy; the ONNX classifier run by plain onnxruntime-node gives the app's top-1 on every
 * test image; features and results files are complete; `predict` reproduces the run's accuracy; another model's
 * context is refused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LearnResult } from '../../shared/contract/train';
import { unwrap } from '../../shared/result';
import { loadModelFolder } from '../../electron/engine/clip/model-folder';
import { preprocessImage } from '../../electron/engine/clip/preprocess';
import { decodeSafetensors } from '../../electron/engine/formats/tensor-files';
import { classificationReport } from '../../electron/engine/train/metrics';
import { appRoot, demoModelDir } from '../../electron/engine/settings/paths';
import { releaseTextEncoderCache } from '../../electron/engine/train/text-encoder';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';
import { writeColourDataset } from '../helpers/colour-images';

const tmp = tempDir('coop-export-run-');
const engine = inProcessEngine();
const model = fixtureModelDirs()[0] as string;
const dataDir = join(tmp.path, 'data');
const testDir = join(tmp.path, 'test');
const runDir = join(tmp.path, 'run');

const writeImages = (root: string, perClass: number, seed: number): Promise<string[][]> =>
  writeColourDataset(root, perClass, seed, { noise: 160, sorted: true });

/** Reads a float32 .npy file (format 1.0) without app code. */
function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const b = readFileSync(path);
  expect(b.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString('latin1');
  expect((10 + len) % 64).toBe(0);
  expect(header).toContain("'descr': '<f4'");
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + len, b.byteOffset + b.length));
  return { shape, data };
}

let testFiles: string[][] = [];
let run: LearnResult;

beforeAll(async () => {
  await writeImages(dataDir, 8, 1);
  testFiles = await writeImages(testDir, 4, 2);
  run = unwrap(
    await engine.client.call('learn', {
      model,
      data: dataDir,
      test: testDir,
      shots: 4,
      seed: 3,
      nCtx: 4,
      epochs: 3,
      augViews: 1,
      backend: 'cpu',
      out: runDir,
    }),
  );
}, 120_000);

afterAll(async () => {
  releaseTextEncoderCache();
  await engine.cleanup();
  tmp.cleanup();
});

const flatTest = () => testFiles.flatMap((files, label) => files.map((path) => ({ path, label })));

describe('export and predict', () => {
  it('exports the context with a README; imported into a fresh data folder it evaluates to the same accuracy', async () => {
    const out = join(tmp.path, 'ctx');
    const r = unwrap(await engine.client.call('exportRun', { run: runDir, format: 'context', out }));
    expect(r.files.map((f) => f.split('/').pop())).toEqual(['context.safetensors', 'README.md']);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    for (const text of ['safe_open', 'CLIPModel', 'blue_thing', run.model.id]) expect(readme).toContain(text);
    const fresh = inProcessEngine();
    try {
      const ev = unwrap(
        await fresh.client.call('evaluate', {
          model,
          data: testDir,
          context: join(out, 'context.safetensors'),
          backend: 'cpu',
        }),
      );
      expect(ev.test.accuracy).toBe(run.test.accuracy);
      expect(ev.test.confusion).toEqual(run.test.confusion);
    } finally {
      await fresh.cleanup();
    }
  }, 120_000);

  it("predicts with the context as the run scored: top-1 over the test folder gives the run's report", async () => {
    const items = flatTest();
    const p = unwrap(
      await engine.client.call('predict', {
        model,
        context: run.contextPath,
        images: items.map((t) => t.path),
        top: 3,
        backend: 'cpu',
      }),
    );
    expect(p.mode).toBe('context');
    for (const pred of p.predictions) {
      expect(pred.top).toHaveLength(3);
      for (let k = 1; k < 3; k++) expect(pred.top[k]!.probability).toBeLessThanOrEqual(pred.top[k - 1]!.probability);
    }
    const names = p.classNames;
    const report = classificationReport(
      p.predictions.map((x) => x.top[0]!.label),
      items.map((t) => t.label),
      names,
    );
    expect(report.confusion).toEqual(run.test.confusion);

    const zs = unwrap(
      await engine.client.call('predict', {
        model,
        classes: run.data.classes.map((c) => c.prompt),
        images: [...items.map((t) => t.path), join(tmp.path, 'missing.png')],
        top: 3,
      }),
    );
    expect(zs.mode).toBe('zero-shot');
    const sum = zs.predictions[0]!.top.reduce((a, t) => a + t.probability, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(zs.predictions.at(-1)?.error).toBeTruthy();
    const zsReport = classificationReport(
      zs.predictions.slice(0, -1).map((x) => x.top[0]!.label),
      items.map((t) => t.label),
      names,
    );
    expect(zsReport.confusion).toEqual(run.zeroShot.test.confusion);

    // A unified context applies to new class names (the prompt texts change, the context does not).
    const renamed = unwrap(
      await engine.client.call('predict', {
        model,
        context: run.contextPath,
        classes: ['scarlet item', 'lime item'],
        images: [items[0]!.path],
        top: 2,
        backend: 'cpu',
      }),
    );
    expect(renamed.classNames).toEqual(['scarlet item', 'lime item']);
    expect(renamed.predictions[0]!.top.map((t) => t.name).sort()).toEqual(['lime item', 'scarlet item']);
  }, 120_000);

  it('refuses a context learned with another model, with a clear message', async () => {
    const r = await engine.client.call('predict', {
      model: demoModelDir(),
      context: run.contextPath,
      images: [flatTest()[0]!.path],
      backend: 'cpu',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid_data');
      expect(r.error.message).toContain('learned with model');
      expect(r.error.message).not.toMatch(/\s--[a-z]/);
      expect(r.error.reason).toBe('model_mismatch');
    }
  }, 60_000);

  it('exports an ONNX classifier that plain onnxruntime-node runs with the same top-1 as the app on every test image', async () => {
    const out = join(tmp.path, 'onnx');
    const r = unwrap(await engine.client.call('exportRun', { run: runDir, format: 'onnx', out, backend: 'cpu' }));
    const items = flatTest();
    expect(r.verification).toMatchObject({ images: items.length, agree: items.length });
    const app = unwrap(
      await engine.client.call('predict', {
        model,
        context: run.contextPath,
        images: items.map((t) => t.path),
        top: 1,
        backend: 'cpu',
      }),
    );
    // Plain ORT on the exported file; only the documented preprocessing (preprocessor_config.json) comes from the app.
    const info = await loadModelFolder(model);
    const pixels = await Promise.all(items.map((t) => preprocessImage(t.path, info.preprocess)));
    const per = pixels[0]!.length;
    const batch = new Float32Array(per * items.length);
    pixels.forEach((p, i) => batch.set(p, i * per));
    const size = info.preprocess.cropHeight;
    const session = await ort.InferenceSession.create(join(out, 'classifier.onnx'));
    try {
      const res = await session.run({
        pixel_values: new ort.Tensor('float32', batch, [items.length, 3, size, info.preprocess.cropWidth]),
      });
      const probs = res['probs']!.data as Float32Array;
      const c = 3;
      items.forEach((_, i) => {
        let best = 0;
        for (let k = 1; k < c; k++) if (probs[i * c + k]! > probs[i * c + best]!) best = k;
        expect(best).toBe(app.predictions[i]!.top[0]!.label);
      });
    } finally {
      await session.release();
    }
    expect(JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8'))).toBeTruthy();
  }, 120_000);

  it('exports normalised class text features as .npy and safetensors', async () => {
    const out = join(tmp.path, 'features');
    unwrap(await engine.client.call('exportRun', { run: runDir, format: 'features', out, backend: 'cpu' }));
    const learned = readNpy(join(out, 'class_features.npy'));
    const zs = readNpy(join(out, 'zero_shot_features.npy'));
    expect(learned.shape).toEqual([3, 32]);
    expect(zs.shape).toEqual([3, 32]);
    for (let c = 0; c < 3; c++) expect(Math.hypot(...learned.data.subarray(c * 32, (c + 1) * 32))).toBeCloseTo(1, 5);
    const st = decodeSafetensors(readFileSync(join(out, 'class_features.safetensors')));
    expect(st.tensors.find((t) => t.name === 'class_features')?.data).toEqual(learned.data);
    expect(st.tensors.find((t) => t.name === 'zero_shot_features')?.data).toEqual(zs.data);
    expect(JSON.parse(st.metadata['class_names'] ?? '[]')).toEqual(['blue_thing', 'green_thing', 'red_thing']);
  }, 60_000);

  it('exports curves, per-class accuracy and confusion matrices as CSV and JSON, and charts as SVG and PNG', async () => {
    const out = join(tmp.path, 'results');
    const r = unwrap(await engine.client.call('exportRun', { run: runDir, format: 'results', out }));
    const names = r.files.map((f) => f.split('/').pop());
    for (const n of ['curve.csv', 'curve.json', 'per-class.csv', 'confusion.csv', 'results.json'])
      expect(names).toContain(n);
    expect(readFileSync(join(out, 'curve.csv'), 'utf8').trim().split('\n')).toHaveLength(run.curve.length + 1);
    const confusion = readFileSync(join(out, 'confusion.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',').slice(1).map(Number));
    expect(confusion).toEqual(run.test.confusion);
    for (const chart of ['curve', 'confusion', 'per-class']) {
      expect(readFileSync(join(out, `${chart}.svg`), 'utf8')).toMatch(/^<svg/);
      expect((await sharp(join(out, `${chart}.png`)).metadata()).format).toBe('png');
    }
  }, 60_000);

  it('exports a project run of the store by its id, verified on the test images the store recorded', async () => {
    const projectId = unwrap(await engine.client.call('projectCreate', { name: 'Colours' })).id;
    unwrap(await engine.client.call('projectImportData', { projectId, sources: [dataDir], thumbnails: false }));
    const learned = unwrap(
      await engine.client.call('learn', {
        model,
        project: projectId,
        shots: 2,
        nCtx: 4,
        epochs: 2,
        augViews: 1,
        backend: 'cpu',
      }),
    );
    const runId = learned.project?.runId;
    expect(runId).toBeGreaterThan(0);
    const out = join(tmp.path, 'by-id');
    const r = unwrap(
      await engine.client.call('exportRun', { run: String(runId), format: 'onnx', out, backend: 'cpu' }),
    );
    expect(r.verification).toMatchObject({ images: learned.test.count, agree: learned.test.count });
    const missing = await engine.client.call('exportRun', { run: '99999', format: 'context', out });
    expect(missing.ok ? null : missing.error.code).toBe('not_found');

    // The run folder (what the Export dialog passes; its result names the project, not a folder of class folders):
    // verified on the images the store recorded, from the engine and from the CLI run in another working folder.
    const byFolder = join(tmp.path, 'by-folder');
    const f = unwrap(
      await engine.client.call('exportRun', { run: learned.outDir, format: 'onnx', out: byFolder, backend: 'cpu' }),
    );
    expect(f.verification).toMatchObject({ images: learned.test.count, agree: learned.test.count });
    const cliOut = join(tmp.path, 'by-cli');
    const cliRun = spawnSync(
      process.execPath,
      [
        join(appRoot(), 'bin', 'coop-studio.js'),
        'export',
        '--run',
        learned.outDir,
        '--format',
        'onnx',
        '--out',
        cliOut,
        '--backend',
        'cpu',
        '--json',
      ],
      {
        cwd: tmp.path,
        encoding: 'utf8',
        env: { ...process.env, COOP_STUDIO_DATA_DIR: engine.dataDir },
        timeout: 120_000,
      },
    );
    expect(cliRun.status, cliRun.stderr).toBe(0);
    expect(JSON.parse(cliRun.stdout).verification).toMatchObject({ agree: learned.test.count });

    // Cancelled while verifying: nothing of the export is left behind.
    const cancelledOut = join(tmp.path, 'cancelled');
    const ac = new AbortController();
    const cancelled = await engine.client.call(
      'exportRun',
      { run: learned.outDir, format: 'onnx', out: cancelledOut, backend: 'cpu' },
      {
        signal: ac.signal,
        onProgress: (e) => (e.kind === 'phase' && /Verifying/.test(e.message) ? ac.abort() : undefined),
      },
    );
    expect(cancelled.ok ? null : cancelled.error.code).toBe('cancelled');
    expect(readdirSync(cancelledOut)).toEqual([]);

    // A project run folder taken to another data folder: its test images are unknown there; a clear error, no files.
    const fresh = inProcessEngine();
    try {
      const elsewhere = join(tmp.path, 'elsewhere');
      const r2 = await fresh.client.call('exportRun', { run: learned.outDir, format: 'onnx', out: elsewhere });
      expect(r2.ok ? null : r2.error.code).toBe('not_found');
      if (!r2.ok) expect(r2.error.message).toContain('project "Colours"');
      expect(existsSync(join(elsewhere, 'classifier.onnx'))).toBe(false);
    } finally {
      await fresh.cleanup();
    }
  }, 240_000);

  it('refuses a folder that is not a run', async () => {
    const r = await engine.client.call('exportRun', { run: dataDir, format: 'context', out: join(tmp.path, 'x') });
    expect(r.ok ? null : r.error.code).toBe('not_found');
  });
});
