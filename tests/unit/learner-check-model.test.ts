/**
 * @file `checkModel` (engine op) and `coop-studio check-model` (CLI) on the demo model, every fixture model (fp32 and
 * fp16), a quantized file and a tampered export (plain Node; the CLI is spawned like a user runs it).
 *
 * The quantized and tampered files are derived from a fixture model in a temporary folder at test time (never
 * committed): the quantized one gets a DequantizeLinear node, the tampered one a quick-GELU constant of 1.0 instead
 * of 1.702, a change ONNX Runtime executes and the structural match does not see, so only the numbers can catch it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelCheckReport } from '../../shared/contract';
import {
  decodeModel,
  encodeModel,
  float32Tensor,
  OnnxDataType,
  tensorToFloat32,
} from '../../electron/engine/onnx/onnx-proto';
import { appRoot, demoModelDir } from '../../electron/engine/settings/paths';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { fixtureModelDirs } from '../helpers/fixtures';

const engine = inProcessEngine();
const scratch = tempDir('coop-check-model-');
afterAll(async () => {
  await engine.cleanup();
  scratch.cleanup();
});

const fixture = fixtureModelDirs()[0] as string;

/** A copy of the fixture's config and a rewritten text model (from `from`) under `name`/onnx/`file`. */
function derivedModel(
  name: string,
  file: string,
  edit: (m: ReturnType<typeof decodeModel>) => void,
  from = 'text_model.onnx',
): string {
  const dir = join(scratch.path, name);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  copyFileSync(join(fixture, 'config.json'), join(dir, 'config.json'));
  const model = decodeModel(new Uint8Array(readFileSync(join(fixture, 'onnx', from))));
  edit(model);
  writeFileSync(join(dir, 'onnx', file), encodeModel(model));
  return dir;
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(appRoot(), 'bin', 'coop-studio.js'), 'check-model', ...args], {
    encoding: 'utf8',
    env: { ...process.env, COOP_STUDIO_DATA_DIR: scratch.path },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function check(model: string, variant?: 'fp32' | 'fp16' | 'quantized') {
  return engine.client.call('checkModel', { model, backend: 'cpu', ...(variant ? { variant } : {}) });
}

describe('checkModel', () => {
  const models = [...(existsSync(demoModelDir()) ? [demoModelDir()] : []), ...fixtureModelDirs()];

  it.each(models)('matches ONNX Runtime within 1e-4 on the fp32 weights of %s', async (dir) => {
    const r = await check(dir);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.variant).toBe('fp32');
    expect(r.value.tolerance).toBe(1e-4);
    expect(r.value.maxAbsDiff).toBeLessThan(1e-4);
    expect(r.value.maxAbsDiffOptimised).toBeLessThan(1e-4);
    expect(r.value.ok).toBe(true);
    expect(r.value.prompts).toBeGreaterThanOrEqual(8);
  });

  it.each(fixtureModelDirs())('matches the fp16 weights of %s within the stated 5e-2', async (dir) => {
    const r = await check(dir, 'fp16');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.variant).toBe('fp16');
    expect(r.value.tolerance).toBe(5e-2);
    expect(r.value.maxAbsDiff).toBeLessThan(5e-2);
    // fp16 rounding is visible: the check really compared against the half-precision graph.
    expect(r.value.maxAbsDiff).toBeGreaterThan(1e-5);
    expect(r.value.ok).toBe(true);
  });

  it('decodes a text model whose outputs are float16 (no final Cast to float32) as half floats', async () => {
    // The fixture's fp16 export ends in Cast(float32) nodes, as Hugging Face's keep-io-types exports do; exports
    // without them hand ONNX Runtime's float16 bits (a Uint16Array) to the check.
    const dir = derivedModel(
      'fp16-outputs',
      'text_model_fp16.onnx',
      (m) => {
        const graph = m.graph ?? {};
        const casts = (graph.node ?? []).filter(
          (n) => n.opType === 'Cast' && graph.output?.some((o) => o.name === n.output?.[0]),
        );
        expect(casts.length).toBeGreaterThan(0);
        for (const cast of casts) {
          const [from = '', to = ''] = [cast.input?.[0], cast.output?.[0]];
          for (const n of graph.node ?? []) {
            n.input = n.input?.map((x) => (x === from ? to : x));
            n.output = n.output?.map((x) => (x === from ? to : x));
          }
        }
        graph.node = (graph.node ?? []).filter((n) => !casts.includes(n));
        for (const o of graph.output ?? []) if (o.type?.tensorType) o.type.tensorType.elemType = OnnxDataType.FLOAT16;
      },
      'text_model_fp16.onnx',
    );
    const r = await check(dir, 'fp16');
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.tolerance).toBe(5e-2);
    expect(r.value.maxAbsDiff).toBeLessThan(5e-2);
    expect(r.value.maxAbsDiffOptimised).toBeLessThan(5e-2);
    expect(r.value.ok).toBe(true);
  });

  it('refuses an int8-quantized text model with "use the fp32 file for training"', async () => {
    const dir = derivedModel('quantized', 'text_model_quantized.onnx', (m) => {
      m.graph?.node?.unshift({ opType: 'DequantizeLinear', input: ['q', 's', 'z'], output: ['dq'] });
    });
    const r = await check(dir, 'quantized');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('invalid_model');
    expect(r.error.message).toMatch(/use the fp32 file for training/);
    // Without a variant the folder (quantized file only) is refused before any parsing.
    const plain = await check(dir);
    expect(!plain.ok && plain.error.message).toMatch(/use the fp32 file for training/);
  });

  it('reports a numerical mismatch with ok false, and the CLI exits 1 with the numbers', async () => {
    const dir = derivedModel('tampered', 'text_model.onnx', (m) => {
      for (const n of m.graph?.node ?? []) {
        const attr = n.attribute?.find((a) => a.name === 'value');
        if (n.opType !== 'Constant' || !attr?.t || (attr.t.dims ?? []).length !== 0) continue;
        if (Math.abs((tensorToFloat32(attr.t)[0] ?? 0) - 1.702) < 1e-3)
          attr.t = float32Tensor('', [], new Float32Array([1]));
      }
    });
    const r = await check(dir);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.ok).toBe(false);
    expect(r.value.maxAbsDiff).toBeGreaterThan(r.value.tolerance);

    const out = cli('--model', dir, '--backend', 'cpu', '--json');
    expect(out.code).toBe(1);
    const err = JSON.parse(out.stdout) as { ok: false; error: { code: string; message: string; detail: string } };
    expect(err.error.code).toBe('invalid_model');
    expect(err.error.message).toMatch(/does not match ONNX Runtime: max abs difference .* > tolerance 0.0001/);
    expect((JSON.parse(err.error.detail) as ModelCheckReport).maxAbsDiff).toBe(r.value.maxAbsDiff);
  });

  it('coop-studio check-model --json prints one report and exits 0 on a fixture model', () => {
    const out = cli('--model', fixture, '--json');
    expect(out.code, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout) as ModelCheckReport;
    expect(r).toMatchObject({ ok: true, variant: 'fp32', modelDir: fixture });
    // The engine's default backend: tfjs-node when the user installed it, else wasm.
    expect(['wasm', 'tensorflow']).toContain(r.backend);
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
  });
});
