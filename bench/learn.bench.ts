/**
 * @file `npm run bench:learn`: the app's whole `learn` (model load, image embedding, training, saving) on a
 * ViT-B/32-size CLIP with random weights, side by side with CoOp in PyTorch (bench/coop_torch.py: the reference recipe
 * with the image encoder on every step, and the cached-features variant) on the same weights, images and split, at
 * 10 and 100 classes x 16 shots; prints the times and their ratios, how close the app's ETA after its first steps came
 * to the real time left, and its estimate before the start (plain Node script run by tsx).
 *
 * [Note: learn bench] Every run is its own process, started one after the other (app, PyTorch cached, PyTorch
 * reference) so they share the machine's state; the load average is printed next to each. Up to 10 classes every
 * process is pinned to one core with `taskset` and PyTorch to one thread, as the issue's measurements did; above,
 * both sides get every core (the app's default threads, PyTorch's threads); `BENCH_CPUS=N` sets it for all. The
 * PyTorch runs stop after `BENCH_TORCH_STEPS` steps (default 20; 0 = the whole run) and extrapolate the training time
 * from their mean step, and embed at most `BENCH_TORCH_IMAGES` images of each set (default 400) and extrapolate that
 * time too, which the table says; the app always runs in full. The app's schedules come from `BENCH_SCHEDULES`
 * (default `fast`; `fast,paper` adds the paper recipe for before/after: hours at 100 classes); `BENCH_APP=estimate`
 * runs only the app's estimate before the start (see [Note: estimate-only bench]), for sizes whose run takes hours,
 * and the table says so. Environment:
 * BENCH_CLASSES (default "10,100"), BENCH_PER_CLASS (images per class, default 80: 16 shots, 4 validation, 60 test),
 * BENCH_SEED (default 1), BENCH_TORCH (the PyTorch runs, default "cached,reference"; empty: the app alone).
 * PyTorch is Debian's python3-torch (with OpenBLAS) at /usr/bin/python3; when it is missing
 * the bench installs it with apt (as root) or says how.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ClipTokenizer } from '../electron/engine/clip/tokenizer';
import { openClipModel, closeClipModels } from '../electron/engine/clip/clip-model';
import { readFolderDataset } from '../electron/engine/data/folder-dataset';
import { fewShotSplit } from '../electron/engine/train/splits';
import { defaultEpochs, ZERO_SHOT_TEMPLATE } from '../shared/contract/train';
import { makeBenchModel } from '../scripts/make-bench-model';
import { makeLearnDataset } from './learn-data';

const PYTHON = '/usr/bin/python3';
/** Cores per process: BENCH_CPUS, else 1 up to 10 classes (as the issue measured) and every core above. */
const cpusFor = (classes: number) =>
  process.env.BENCH_CPUS ? Number(process.env.BENCH_CPUS) : classes <= 10 ? 1 : availableParallelism();
const SAMPLE_IMAGES = Number(process.env.BENCH_TORCH_IMAGES ?? 400);
const CLASSES = (process.env.BENCH_CLASSES ?? '10,100').split(',').filter(Boolean).map(Number);
const PER_CLASS = Number(process.env.BENCH_PER_CLASS ?? 80);
const TORCH_STEPS = Number(process.env.BENCH_TORCH_STEPS ?? 20);
const SCHEDULES = (process.env.BENCH_SCHEDULES ?? 'fast').split(',').filter(Boolean);
const SEED = Number(process.env.BENCH_SEED ?? 1);
/** The PyTorch runs: BENCH_TORCH (default "cached,reference"; empty for the app alone, e.g. to check its estimate). */
const TORCH_MODES = (process.env.BENCH_TORCH ?? 'cached,reference').split(',').filter(Boolean);
const SHOTS = 16;
const root = resolve(import.meta.dirname, '..');

function ensureTorch(): void {
  const ok = () => spawnSync(PYTHON, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' }).status === 0;
  if (ok()) return;
  if (process.getuid?.() === 0) {
    console.log('Installing python3-torch with apt...');
    execFileSync('apt-get', ['install', '-y', 'python3-torch', 'python3-numpy', 'python3-pil'], { stdio: 'inherit' });
  }
  if (!ok())
    throw new Error('PyTorch is missing: run `sudo apt-get install -y python3-torch python3-numpy python3-pil`.');
}

const pinned = (cpus: number, cmd: string, args: string[]): [string, string[]] =>
  cpus < availableParallelism() ? ['taskset', ['-c', `0-${cpus - 1}`, cmd, ...args]] : [cmd, args];
const load = () => loadavg()[0]?.toFixed(1) ?? '?';

function run(cpus: number, cmd: string, args: string[]): string {
  const [c, a] = pinned(cpus, cmd, args);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(cpus), OMP_NUM_THREADS: String(cpus) };
  const r = spawnSync(c, a, {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed with status ${r.status}`);
  return r.stdout;
}

interface AppRun {
  estimate: {
    seconds: { total: number | null; features: number; train: number | null };
    msPerStep: number | null;
    threads: number;
    schedule: { steps: number };
  };
  estimateS: number;
  /** Absent when only the estimate ran (BENCH_APP=estimate). */
  wallS?: number;
  timings?: { featuresS: number; trainS: number; steps: number; msPerStep: number; threads: number; totalS: number };
  events?: { t: number; kind: string; step?: number; etaS?: number }[];
  peakRssMiB: number;
}

interface TorchRun {
  steps: number;
  stepsRun: number;
  extrapolated: boolean;
  sPerStep: number;
  loadS: number;
  embedS: number;
  trainS: number;
  evalS: number;
  totalS: number;
  textCheckMaxAbsDiff: number;
  imagesExtrapolated: number;
}

/** The ETA an app run reported after step k, against the time it really took from there to the end. */
function etaError(
  r: AppRun,
  k: number,
): { eta: number; real: number; error: number; msBefore: number; msAfter: number } | null {
  const steps = r.events?.filter((e) => e.kind === 'step') ?? [];
  const at = steps.find((e) => e.step === k);
  const first = steps[0];
  if (!at || !first || at.etaS === undefined || r.wallS === undefined) return null;
  const trainEnd = r.events?.find((e) => e.kind === 'phase:save')?.t ?? r.wallS;
  const real = trainEnd - at.t;
  // Mean time per step from step 2 to k (what the ETA saw) and after k (what it predicted): under a changing machine
  // load the two differ, whatever the estimator.
  const left = steps.length - k;
  return {
    eta: at.etaS,
    real,
    error: real > 0 ? (at.etaS - real) / real : 0,
    msBefore: k > 1 ? ((at.t - first.t) / (k - 1)) * 1000 : NaN,
    msAfter: left > 0 ? (((steps[steps.length - 1]?.t ?? at.t) - at.t) / left) * 1000 : NaN,
  };
}

ensureTorch();
const modelDir = makeBenchModel(undefined, 1, true);
const work = mkdtempSync(join(tmpdir(), 'coop-bench-learn-'));
const fmt = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
const lines: string[] = [];
console.log(
  `bench:learn on ${modelDir} (ViT-B/32 sizes, random weights), ${SHOTS} shots, seed ${SEED}, ${PER_CLASS} images per class, ` +
    `PyTorch ${TORCH_STEPS > 0 ? `timed over ${TORCH_STEPS} steps and extrapolated` : 'in full'}`,
);
try {
  const model = await openClipModel(modelDir);
  const tokenizer = await ClipTokenizer.fromModelDir(modelDir, model.info.config.text.contextLength);
  for (const classes of CLASSES) {
    const cpus = cpusFor(classes);
    const data = await makeLearnDataset(classes, PER_CLASS);
    // The split and the prompts exactly as the app draws them, for the PyTorch side.
    const ds = await readFolderDataset(data);
    const split = fewShotSplit(
      ds.classes.map((c) => c.files),
      { shots: SHOTS, seed: SEED },
    );
    const content = (t: string) => tokenizer.encode(t).filter((id) => id !== tokenizer.sotId && id !== tokenizer.eotId);
    const checkNames = ds.classes.slice(0, 4).map((c) => ZERO_SHOT_TEMPLATE.replace('{}', c.prompt));
    const plan = {
      seed: SEED,
      nCtx: 16,
      lr: 0.002,
      batchSize: 32,
      epochs: defaultEpochs(SHOTS),
      sot: tokenizer.sotId,
      eot: tokenizer.eotId,
      dotIds: content('.'),
      nameIds: ds.classes.map((c) => content(c.prompt)),
      train: split.train.map((t) => [t.path, t.label]),
      test: [...split.val, ...split.test].map((t) => [t.path, t.label]),
      check: {
        ids: checkNames.map((t) => tokenizer.encode(t)),
        features: (await model.embedText(checkNames)).map((f) => Array.from(f)),
      },
    };
    const planPath = join(work, `plan-${classes}.json`);
    writeFileSync(planPath, JSON.stringify(plan));

    const apps = new Map<string, AppRun & { load: string }>();
    for (const schedule of SCHEDULES) {
      const out = join(work, `app-${classes}-${schedule}.json`);
      const args = {
        data,
        model: modelDir,
        shots: SHOTS,
        seed: SEED,
        schedule,
        out: join(work, `out-${classes}-${schedule}`),
      };
      const l = load();
      const hook = './scripts/demo-model/esm-resolve-hook.mjs';
      run(cpus, process.execPath, [
        '--import',
        hook,
        '--import',
        'tsx',
        'bench/learn-app-run.ts',
        JSON.stringify(args),
        out,
      ]);
      const a = JSON.parse(readFileSync(out, 'utf8')) as AppRun;
      apps.set(schedule, { ...a, load: l });
      const took = a.wallS !== undefined ? fmt(a.wallS) : `estimate only (${fmt(a.estimateS)})`;
      console.log(`  (${classes} classes: app ${schedule} ${took}, load ${l} -> ${load()})`);
    }
    const torch = new Map<string, TorchRun & { load: string }>();
    for (const mode of TORCH_MODES) {
      const l = load();
      const args = ['bench/coop_torch.py', '--model', modelDir, '--plan', planPath, '--mode', mode];
      const r = JSON.parse(
        run(cpus, PYTHON, [
          ...args,
          '--threads',
          String(cpus),
          '--max-steps',
          String(TORCH_STEPS),
          '--sample-images',
          String(SAMPLE_IMAGES),
        ]),
      ) as TorchRun;
      torch.set(mode, { ...r, load: l });
      console.log(`  (${classes} classes: PyTorch ${mode} ${fmt(r.totalS)}, load ${l} -> ${load()})`);
    }

    const first = lines.length;
    lines.push(
      '',
      `${classes} classes x ${SHOTS} shots (${split.train.length} training, ${plan.test.length} evaluated images)`,
    );
    for (const [mode, r] of torch)
      lines.push(
        `  PyTorch ${mode.padEnd(9)} ${fmt(r.totalS).padStart(9)}: load ${fmt(r.loadS)}, embed ${fmt(r.embedS)}, ` +
          `train ${fmt(r.trainS)} (${r.steps} steps x ${(r.sPerStep * 1000).toFixed(0)} ms${r.extrapolated ? `, extrapolated from ${r.stepsRun}` : ''}), ` +
          `eval ${fmt(r.evalS)}${r.imagesExtrapolated > 0 ? ` (embedding of ${r.imagesExtrapolated} images extrapolated)` : ''}; ` +
          `text encoder vs ORT max |diff| ${r.textCheckMaxAbsDiff.toExponential(1)} [load ${r.load}]`,
      );
    for (const [schedule, a] of apps) {
      const t = a.timings;
      const est = a.estimate.seconds.total;
      if (!t || a.wallS === undefined) {
        const e = a.estimate;
        lines.push(
          `  app ${schedule.padEnd(13)} not run (BENCH_APP=estimate): estimate before the start ${est !== null ? fmt(est) : '?'} ` +
            `for embedding + training (${e.schedule.steps} steps x ${e.msPerStep?.toFixed(0) ?? '?'} ms, ${e.threads} thread(s)), took ${fmt(a.estimateS)} [load ${a.load}]`,
        );
        if (est !== null)
          for (const [mode, r] of torch)
            lines.push(`    ratio app ${schedule} (estimated) / PyTorch ${mode}: ${(est / r.totalS).toFixed(3)}x`);
        continue;
      }
      const wall = a.wallS;
      lines.push(
        `  app ${schedule.padEnd(13)} ${fmt(wall).padStart(9)}: embed ${fmt(t.featuresS)}, train ${fmt(t.trainS)} ` +
          `(${t.steps} steps x ${t.msPerStep.toFixed(0)} ms, ${t.threads} thread(s)), peak RSS ${a.peakRssMiB.toFixed(0)} MiB [load ${a.load}]`,
      );
      for (const [mode, r] of torch)
        lines.push(`    ratio app ${schedule} / PyTorch ${mode}: ${(wall / r.totalS).toFixed(3)}x`);
      if (est !== null)
        lines.push(
          `    estimate before the start: ${fmt(est)} for embedding + training (real ${fmt(t.featuresS + t.trainS)}: ` +
            `${(((est - (t.featuresS + t.trainS)) / (t.featuresS + t.trainS)) * 100).toFixed(0)}%), took ${fmt(a.estimateS)}`,
        );
      for (const k of [3, 5, 10]) {
        const e = etaError(a, k);
        if (e)
          lines.push(
            `    ETA after step ${k}: ${fmt(e.eta)} vs ${fmt(e.real)} real (${e.error >= 0 ? '+' : ''}${(e.error * 100).toFixed(0)}%); ` +
              `steps 2-${k} took ${e.msBefore.toFixed(0)} ms each, the rest ${e.msAfter.toFixed(0)} ms`,
          );
      }
    }
    console.log(lines.slice(first).join('\n'));
  }
  await closeClipModels();
  console.log('\nSummary');
  console.log(lines.join('\n'));
} finally {
  rmSync(work, { recursive: true, force: true });
  if (existsSync(work)) console.log(`could not remove ${work}`);
}
