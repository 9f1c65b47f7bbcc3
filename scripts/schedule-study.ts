/**
 * @file `npm run study:schedule`: the schedule study behind the `fast` training schedule (study script, plain Node
 * with tsx; tfjs wasm backend, one thread). See docs/schedule-study.md for the question, the tasks and the table.
 *
 * Trains CoOp with the app's own trainer (`trainCoop` + `PromptLearner`, M = 16, unified context) on cached features
 * of the study's tasks (scripts/schedule-study/tasks.ts) for every task x shots x seed x schedule asked for, appends
 * each run to a JSON-lines results file (a run already there with the same settings is not repeated, so an
 * interrupted study resumes), then prints the table of mean test accuracy per task and shot count, each schedule next
 * to `paper`, and with `--doc` writes it between the document's markers of table `--table` (default `main`):
 * `<!-- schedule-study:main:start -->` ... `<!-- schedule-study:main:end -->`.
 *
 * Usage: npm run study:schedule -- [--tasks ID,...] [--shots 1,2,4,8,16] [--seeds 1,2,3]
 *        [--schedules paper,fast] [--results FILE] [--doc FILE] [--table NAME] [--table-only]
 * Defaults: every task, shots 1,2,4,8,16, seeds 1,2,3, schedules paper,fast, results docs/schedule-study.jsonl.
 * Runs are long at 100 classes (the paper schedule takes 10,000 steps at 16 shots): run it under `nice`.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { meanStd } from '../electron/engine/train/metrics';
import { STUDY_SCHEDULES } from './schedule-study/candidates';
import type { ScheduleRun } from './schedule-study/run-one';
import { studyTasks } from './schedule-study/tasks';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string' },
    shots: { type: 'string', default: '1,2,4,8,16' },
    seeds: { type: 'string', default: '1,2,3' },
    schedules: { type: 'string', default: 'paper,fast' },
    results: { type: 'string', default: 'docs/schedule-study.jsonl' },
    doc: { type: 'string' },
    table: { type: 'string', default: 'main' },
    'table-only': { type: 'boolean', default: false },
  },
});
const list = (s: string) => s.split(',').filter(Boolean);
const specs = studyTasks().filter((t) => !values.tasks || list(values.tasks).includes(t.id));
const shotsList = list(values.shots).map(Number);
const seeds = list(values.seeds).map(Number);
const schedules = list(values.schedules).map((id) => {
  const s = STUDY_SCHEDULES.find((x) => x.id === id);
  if (!s) throw new Error(`unknown schedule ${id}; known: ${STUDY_SCHEDULES.map((x) => x.id).join(', ')}`);
  return s;
});
const resultsPath = resolve(values.results);

/** One line of the results file. */
interface Row {
  key: string;
  task: string;
  classes: number;
  shots: number;
  seed: number;
  schedule: string;
  test: number;
  val: number | null;
  zeroShot: number;
  steps: number;
  seconds: number;
}

const rows: Row[] = existsSync(resultsPath)
  ? readFileSync(resultsPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row)
  : [];
/**
 * What a run's settings are, whatever schedule named them: two schedules that train alike (e.g. a candidate the app
 * then adopted) share their runs.
 */
function canonical(run: ScheduleRun): Record<string, unknown> {
  const adam = run.optimizer === 'adam';
  return {
    epochs: run.epochs,
    batchSize: run.batchSize ?? 32,
    lr: run.schedule?.baseLr ?? 0.002,
    warmupEpochs: run.schedule?.warmupEpochs ?? 1,
    warmupLr: run.schedule?.warmupLr ?? 1e-5,
    optimizer: run.optimizer ?? 'sgd',
    momentum: adam ? (run.adam?.beta1 ?? 0.9) : (run.sgd?.momentum ?? 0.9),
    weightDecay: adam ? (run.adam?.weightDecay ?? 5e-4) : (run.sgd?.weightDecay ?? 5e-4),
    ...(adam ? { beta2: run.adam?.beta2 ?? 0.999, eps: run.adam?.eps ?? 1e-8 } : {}),
  };
}
const keyOf = (task: string, shots: number, seed: number, run: ScheduleRun) =>
  JSON.stringify({ task, shots, seed, run: canonical(run) });
/** A stored row's key, recomputed so rows written before a change of key format still match. */
const rowKey = (r: Row) => keyOf(r.task, r.shots, r.seed, (JSON.parse(r.key) as { run: ScheduleRun }).run);
const done = new Set(rows.map(rowKey));

/** Training images of a task's split: `shots` per class, all of a class when it has fewer. */
const trainImages = (perClass: number[], shots: number) => perClass.reduce((a, n) => a + Math.min(n, shots), 0);

if (!values['table-only']) {
  const { openClipModel } = await import('../electron/engine/clip/clip-model');
  const { demoModelDir } = await import('../electron/engine/settings/paths');
  const { useBackend } = await import('../electron/engine/tf/backends');
  const { loadTextEncoder } = await import('../electron/engine/train/text-encoder');
  const { buildTask } = await import('./schedule-study/tasks');
  const { runOne } = await import('./schedule-study/run-one');
  await useBackend('wasm');
  const model = await openClipModel(demoModelDir());
  const encoder = await loadTextEncoder(model.info.dir);
  for (const spec of specs) {
    let task: Awaited<ReturnType<typeof buildTask>> | null = null;
    for (const shots of shotsList)
      for (const seed of seeds)
        for (const s of schedules) {
          task ??= await buildTask(model, spec);
          const n = trainImages(
            task.classes.map((c) => c.features.length),
            shots,
          );
          const run = s.run(shots, n);
          const key = keyOf(spec.id, shots, seed, run);
          if (done.has(key)) continue;
          const r = await runOne(model, encoder, task, shots, seed, run);
          const row: Row = {
            key,
            task: spec.id,
            classes: task.classes.length,
            shots,
            seed,
            schedule: s.id,
            ...r,
          };
          appendFileSync(resultsPath, JSON.stringify(row) + '\n');
          rows.push(row);
          done.add(key);
          process.stderr.write(
            `${spec.id} ${shots} shots seed ${seed} ${s.id}: test ${(r.test * 100).toFixed(1)}% (zero-shot ${(r.zeroShot * 100).toFixed(1)}%), ${r.steps} steps, ${r.seconds.toFixed(0)} s\n`,
          );
        }
  }
  encoder.dispose();
}

/** Training images of a task's split at `shots`, from its definition. */
function nOf(taskId: string, shots: number): number {
  const spec = studyTasks().find((t) => t.id === taskId);
  if (!spec) return 0;
  const classes = spec.world === 'scenes' ? spec.classes.length : spec.names.length;
  return trainImages(Array<number>(classes).fill(spec.perClass), shots);
}

/** Per seed, the latest row run with the schedule's current settings (under any name; a changed schedule's old rows are ignored). */
function current(task: string, shots: number, schedule: string): Row[] {
  const s = STUDY_SCHEDULES.find((x) => x.id === schedule);
  return seeds.flatMap((seed) => {
    const want = s ? keyOf(task, shots, seed, s.run(shots, nOf(task, shots))) : null;
    return rows.filter((r) => r.task === task && r.shots === shots && r.seed === seed && rowKey(r) === want).slice(-1);
  });
}

const pct = (x: number) => (x * 100).toFixed(1);
const signed = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(1)}`;
const lines: string[] = [];
const head = ['task', 'classes', 'shots', 'zero-shot', ...schedules.map((s) => s.id)];
lines.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`);
const worst = new Map<string, number>();
/** Per schedule, the worst difference to `paper` at each class count. */
const worstByClasses = new Map<string, Map<number, number>>();
const stepsOf = new Map<string, number>();
for (const spec of specs)
  for (const shots of shotsList) {
    const cells: string[] = [];
    const paper = current(spec.id, shots, 'paper');
    const paperMean = paper.length === seeds.length ? meanStd(paper.map((r) => r.test)).mean : null;
    let zs = '';
    let classes = '';
    for (const s of schedules) {
      const rs = current(spec.id, shots, s.id);
      if (rs.length < seeds.length) {
        cells.push(rs.length === 0 ? 'not run' : `(${rs.length}/${seeds.length} seeds)`);
        continue;
      }
      const m = meanStd(rs.map((r) => r.test));
      zs = pct(rs[0]?.zeroShot ?? 0);
      classes = String(rs[0]?.classes ?? '');
      const steps = rs[0]?.steps ?? 0;
      stepsOf.set(s.id, (stepsOf.get(s.id) ?? 0) + steps);
      let cell = `${pct(m.mean)}${rs.length > 1 ? ` ± ${pct(m.std)}` : ''} (${steps})`;
      if (s.id !== 'paper' && paperMean !== null) {
        const d = (m.mean - paperMean) * 100;
        worst.set(s.id, Math.min(worst.get(s.id) ?? Infinity, d));
        const byClasses = worstByClasses.get(s.id) ?? new Map<number, number>();
        const c = rs[0]?.classes ?? 0;
        byClasses.set(c, Math.min(byClasses.get(c) ?? Infinity, d));
        worstByClasses.set(s.id, byClasses);
        cell += ` ${signed(d)}${d < -1 ? ' ✗' : ''}`;
      }
      cells.push(cell);
    }
    lines.push(`| ${[spec.id, classes, String(shots), zs, ...cells].join(' | ')} |`);
  }
lines.push('');
for (const s of schedules) {
  const w = worst.get(s.id);
  const byClasses = [...(worstByClasses.get(s.id) ?? new Map<number, number>())]
    .sort(([a], [b]) => a - b)
    .map(([c, d]) => `${c}: ${signed(d)}`);
  lines.push(
    `- \`${s.id}\` (${s.note}): ${stepsOf.get(s.id) ?? 0} steps in all` +
      (w !== undefined ? `; worst difference to \`paper\` ${signed(w)} points` : '') +
      (byClasses.length > 0 ? ` (by class count: ${byClasses.join(', ')})` : ''),
  );
}
const table = lines.join('\n');
console.log(table);
if (values.doc) {
  const docPath = resolve(values.doc);
  const doc = readFileSync(docPath, 'utf8');
  const start = `<!-- schedule-study:${values.table}:start -->`;
  const end = `<!-- schedule-study:${values.table}:end -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${docPath} has no ${start} ... ${end} markers`);
  const next = doc.slice(0, a + start.length) + '\n\n' + table + '\n\n' + doc.slice(b);
  // Formatted as the repository's format check wants it, so a regenerated document passes `npm run check`.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(docPath)) ?? {};
  writeFileSync(docPath, await prettier.format(next, { ...options, filepath: docPath }));
}
