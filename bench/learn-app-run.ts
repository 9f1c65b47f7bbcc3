/**
 * @file One app `learn` for `npm run bench:learn`, in a fresh process (bench helper, plain Node with tsx): the time
 * estimate the Learn screen would show first, then the whole run as the engine does it (model load, embedding,
 * training, saving), with the time of every progress event so the bench can score the ETA. With BENCH_APP=estimate
 * only the estimate (see [Note: estimate-only bench]).
 *
 * Usage: tsx bench/learn-app-run.ts '<learn args as JSON>' OUT.json
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnArgs, type LearnProgress } from '../shared/contract/train';
import { estimateLearn } from '../electron/engine/jobs/estimate-learn';
import { runLearn } from '../electron/engine/jobs/trainer-run';

/** The process's peak resident memory (Linux: VmHWM; elsewhere the current RSS). */
function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss / 2 ** 20;
}

const [json, out] = process.argv.slice(2);
if (!json || !out) throw new Error('usage: learn-app-run.ts ARGS_JSON OUT_JSON');
const args = learnArgs.parse(JSON.parse(json));
const env = { dataDir: mkdtempSync(join(tmpdir(), 'coop-bench-learn-app-')), log: () => undefined };
const signal = new AbortController().signal;

const t0 = performance.now();
const estimate = await estimateLearn(args, env, { progress: () => undefined, signal });
const estimateS = (performance.now() - t0) / 1000;

// [Note: estimate-only bench] BENCH_APP=estimate stops after the estimate: for sizes whose whole run takes hours.
if (process.env['BENCH_APP'] === 'estimate') {
  writeFileSync(out, JSON.stringify({ estimate, estimateS, peakRssMiB: peakRssMiB() }));
  process.exit(0);
}

const events: { t: number; kind: string; step?: number; etaS?: number }[] = [];
const start = performance.now();
let steps = 0;
const result = await runLearn(args, env, {
  progress: (e: LearnProgress) => {
    const t = (performance.now() - start) / 1000;
    if (e.kind === 'step') events.push({ t, kind: 'step', step: ++steps, etaS: e.etaS });
    else if (e.kind === 'phase') events.push({ t, kind: `phase:${e.phase}` });
  },
  signal,
});
const wallS = (performance.now() - start) / 1000;
writeFileSync(
  out,
  JSON.stringify({
    estimate,
    estimateS,
    wallS,
    timings: result.timings,
    settings: result.settings,
    backend: result.backend,
    testAccuracy: result.test.accuracy,
    events,
    peakRssMiB: peakRssMiB(),
  }),
);
