/**
 * @file Closing-note numbers: CoOp (16 shots) vs the zero-shot prompt on the demo task over seeds 1, 2, 3
 * (mean, std), with the optimised and the plain text-encoder path (plain Node, run with `npm run bench:coop`).
 *
 * Usage: npm run bench:coop -- [--data DIR] [--model DIR] [--epochs N] [--aug-views N] [--backend wasm|cpu]
 *        [--seeds 1,2,3] [--paths optimised,plain] [--out FILE.json]
 * Defaults: the demo model, the first sample task, CoOp's epochs for 16 shots and the default views (none).
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LearnResult } from '../shared/contract/train';
import { DEFAULT_AUG_VIEWS, learnArgs } from '../shared/contract/train';
import { firstSampleTask } from '../electron/hosts/cli/commands/train';
import { meanStd } from '../electron/engine/train/metrics';
import { runLearn } from '../electron/engine/jobs/trainer-run';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string' },
    epochs: { type: 'string' },
    'aug-views': { type: 'string' },
    backend: { type: 'string' },
    seeds: { type: 'string' },
    paths: { type: 'string' },
    out: { type: 'string' },
  },
});
const data = values.data ? resolve(values.data) : firstSampleTask();
const seeds = (values.seeds ?? '1,2,3').split(',').map(Number);
const paths = (values.paths ?? 'optimised,plain').split(',') as ('optimised' | 'plain')[];
// Without --epochs, CoOp's count for the shot number (200 for 16 shots).
const epochs = values.epochs ? Number(values.epochs) : undefined;
const augViews = values['aug-views'] ? Number(values['aug-views']) : DEFAULT_AUG_VIEWS;
const work = mkdtempSync(join(tmpdir(), 'coop-bench-'));
const env = { dataDir: work, log: (m: string) => process.stderr.write(m + '\n') };

const rows: {
  seed: number;
  path: string;
  zeroShot: number;
  coop: number;
  msPerStep: number;
  totalS: number;
  backend: string;
}[] = [];
try {
  for (const path of paths)
    for (const seed of seeds) {
      const args = learnArgs.parse({
        data,
        shots: 16,
        seed,
        epochs,
        augViews,
        path,
        out: join(work, `${path}-${seed}`),
        ...(values.model ? { model: resolve(values.model) } : {}),
        ...(values.backend ? { backend: values.backend } : {}),
      });
      const r: LearnResult = await runLearn(args, env, {
        progress: (e) => {
          if (e.kind === 'epoch' && (e.point.epoch % 10 === 0 || e.point.epoch === epochs))
            process.stderr.write(`  [${path} seed ${seed}] epoch ${e.point.epoch}: test ${e.point.testAccuracy}\n`);
        },
        signal: new AbortController().signal,
      });
      rows.push({
        seed,
        path,
        zeroShot: r.zeroShot.test.accuracy,
        coop: r.test.accuracy,
        msPerStep: r.timings.msPerStep,
        totalS: r.timings.totalS,
        backend: r.backend,
      });
      process.stderr.write(
        `${path} seed ${seed}: zero-shot ${(r.zeroShot.test.accuracy * 100).toFixed(2)}% -> CoOp ${(r.test.accuracy * 100).toFixed(2)}% (${r.timings.totalS.toFixed(1)} s, ${r.timings.msPerStep.toFixed(0)} ms/step, ${r.backend})\n`,
      );
    }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const pct = (x: { mean: number; std: number }) => `${(x.mean * 100).toFixed(2)} +- ${(x.std * 100).toFixed(2)}`;
const summary = paths.map((path) => {
  const rs = rows.filter((r) => r.path === path);
  return {
    path,
    zeroShot: meanStd(rs.map((r) => r.zeroShot)),
    coop: meanStd(rs.map((r) => r.coop)),
    msPerStep: meanStd(rs.map((r) => r.msPerStep)).mean,
  };
});
const agree = seeds.every((seed) => {
  const a = rows.filter((r) => r.seed === seed).map((r) => r.coop);
  return a.every((x) => x === a[0]);
});
console.log(
  `CoOp 16 shots vs zero-shot on ${data} (${epochs ?? 200} epochs, ${augViews} views, seeds ${seeds.join(',')})`,
);
console.log('path        zero-shot % (mean +- std)   CoOp % (mean +- std)   ms/step');
for (const s of summary)
  console.log(`${s.path.padEnd(11)} ${pct(s.zeroShot).padEnd(27)} ${pct(s.coop).padEnd(22)} ${s.msPerStep.toFixed(0)}`);
console.log(`Per seed: ${rows.map((r) => `${r.path}/${r.seed}: ${(r.coop * 100).toFixed(2)}`).join(', ')}`);
console.log(`Optimised and plain paths give the same test accuracy on every seed: ${agree ? 'yes' : 'NO'}`);
if (values.out)
  writeFileSync(values.out, JSON.stringify({ data, epochs, augViews, seeds, rows, summary, agree }, null, 2));
