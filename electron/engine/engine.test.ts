import { afterAll, describe, expect, it } from 'vitest';
import { contract } from '../../shared/contract';
import { inProcessEngine } from '../../tests/helpers/engine';
import { createHandlers } from './handlers';

describe('engine (in-process transport)', () => {
  const e = inProcessEngine();
  afterAll(() => e.cleanup());

  it('has exactly one handler per contract operation', () => {
    const handlers = createHandlers({ dataDir: e.dataDir, log: () => {} });
    expect(Object.keys(handlers).sort()).toEqual(Object.keys(contract).sort());
  });

  it('answers doctor with the tfjs backends and ORT providers of this machine', async () => {
    const r = await e.client.call('doctor', {});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const wasm = r.value.tfjs.backends.find((b) => b.name === 'wasm');
    expect(wasm?.available).toBe(true);
    expect(r.value.onnxRuntime.providers.find((p) => p.name === 'cpu')?.available).toBe(true);
    expect(r.value.dataDir).toBe(e.dataDir);
    expect(r.value.sqlite.version).toMatch(/^3\.\d+/);
  });

  it('rejects bad arguments with bad_args and names the field', async () => {
    const r = await e.client.call('ping', { delayMs: -5 });
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_args' } });
    if (!r.ok) expect(r.error.message).toContain('delayMs');
  });

  it('rejects unknown operations', async () => {
    const r = await e.client.call('nope' as 'ping', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown_op' } });
  });

  it('reports progress and can be cancelled', async () => {
    const ticks: number[] = [];
    const controller = new AbortController();
    const pending = e.client.call(
      'ping',
      { delayMs: 5000, ticks: 50 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          ticks.push(p.tick);
          if (p.tick === 3) controller.abort();
        },
      },
    );
    const r = await pending;
    expect(r).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(ticks).toEqual([1, 2, 3]);
  });
});
