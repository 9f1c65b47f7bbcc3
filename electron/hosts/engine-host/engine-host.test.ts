import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineHost } from './engine-host';

describe('engine worker process (child_process transport)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'coop-host-'));
  const crashes: number[] = [];
  const host = new EngineHost({
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir },
    onCrash: ({ failedCalls }) => crashes.push(failedCalls),
  });
  afterAll(async () => {
    await host.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the worker and answers calls with progress', async () => {
    await host.start();
    const ticks: number[] = [];
    const r = await host.client.call('ping', { delayMs: 30, ticks: 3 }, { onProgress: (p) => ticks.push(p.tick) });
    expect(r).toMatchObject({ ok: true, value: { pong: true, ticks: 3 } });
    expect(ticks).toEqual([1, 2, 3]);
    const d = await host.client.call('doctor', {});
    expect(d.ok && d.value.dataDir).toBe(dataDir);
  });

  it('cancels a job in the worker', async () => {
    const controller = new AbortController();
    const pending = host.client.call(
      'ping',
      { delayMs: 10_000, ticks: 100 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.tick === 2) controller.abort();
        },
      },
    );
    expect(await pending).toMatchObject({ ok: false, error: { code: 'cancelled' } });
  });

  it('fails in-flight jobs when the worker crashes, then restarts it', async () => {
    const firstPid = host.pid;
    const pending = host.client.call(
      'ping',
      { delayMs: 10_000, ticks: 100 },
      {
        onProgress: (p) => {
          if (p.tick === 1 && firstPid) process.kill(firstPid, 'SIGKILL');
        },
      },
    );
    const r = await pending;
    expect(r).toMatchObject({ ok: false, error: { code: 'engine_crashed' } });
    expect(crashes).toEqual([1]);
    await host.whenReady();
    expect(host.pid).not.toBe(firstPid);
    expect(host.restartCount).toBe(1);
    expect(await host.client.call('ping', {})).toMatchObject({ ok: true });
  });
});

describe('graceful shutdown', () => {
  it('cancels running jobs and lets the worker exit by itself', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coop-host-'));
    const host = new EngineHost({ env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir } });
    await host.start();
    let ticks = 0;
    const job = host.client.call('ping', { delayMs: 20_000, ticks: 200 }, { onProgress: () => (ticks += 1) });
    while (ticks < 2) await new Promise((r) => setTimeout(r, 20));
    const stopping = host.shutdown(10_000);
    expect(await job).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    await stopping;
    expect(host.pid).toBeUndefined();
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('a worker that cannot start', () => {
  it('rejects start() instead of waiting forever, and does not restart it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coop-host-'));
    const entry = join(dir, 'broken-worker.mjs');
    writeFileSync(entry, "throw new Error('a broken build');\n");
    const crashes: unknown[] = [];
    const host = new EngineHost({ entry, env: { ...process.env, NODE_OPTIONS: '' }, onCrash: (c) => crashes.push(c) });
    await expect(host.start()).rejects.toThrow(/engine worker failed to start \(exit code 1\)/);
    expect(host.restartCount).toBe(0);
    expect(crashes).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
