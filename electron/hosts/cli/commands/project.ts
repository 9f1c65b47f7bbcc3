/**
 * @file CLI commands `project create|list|show|run|import-data|embed|relink|export|import` (Node).
 *
 * `--project` takes a project id or its exact name. Import and embedding show progress on stderr
 * and Ctrl-C cancels them cleanly (what was committed is kept).
 */
import { resolve } from 'node:path';
import type { EngineClient } from '../../../../shared/client';
import type { ImportReport, ProjectSummary } from '../../../../shared/contract/projects';
import { AppError, unwrap } from '../../../../shared/result';
import { int, MODEL_OPT, modelOpt, str, type CommandContext, type CommandSpec } from '../command';

const PROJECT_OPTION = {
  project: { type: 'string', short: 'p', valueName: 'ID|NAME', description: 'The project (id or exact name).' },
} as const;

/** The project `--project ID|NAME` (or the first positional) names; throws `not_found` / `conflict`. */
export async function resolveProject(client: EngineClient, ctx: CommandContext): Promise<ProjectSummary> {
  const ref = str(ctx, 'project') ?? ctx.positionals[0];
  if (!ref) throw new AppError('bad_args', 'Name the project with --project ID|NAME. See `coop-studio project list`.');
  const { projects } = unwrap(await client.call('projectList', {}));
  const found = /^\d+$/.test(ref) ? projects.find((p) => p.id === Number(ref)) : projects.filter((p) => p.name === ref);
  if (Array.isArray(found)) {
    if (found.length > 1) throw new AppError('conflict', `${found.length} projects are named "${ref}"; use the id.`);
    if (found[0]) return found[0];
  } else if (found) return found;
  throw new AppError('not_found', `There is no project "${ref}". See \`coop-studio project list\`.`);
}

/** Runs `fn` with an AbortSignal that Ctrl-C aborts. */
async function cancellable<T>(ctx: CommandContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    ctx.log('Cancelling...');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await fn(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

function printSummary(ctx: CommandContext, p: ProjectSummary): void {
  const best = p.bestRun;
  const runs = p.runCount
    ? `, ${p.runCount} run${p.runCount > 1 ? 's' : ''}${best ? `, best ${(best.testAccuracy * 100).toFixed(1)}% (run #${best.runId}: ${best.method}, ${best.shots} shots, seed ${best.seed})` : ''}`
    : '';
  ctx.print(
    `#${p.id} ${p.name}: ${p.classes} classes, ${p.images} images${p.copyImages ? ' (copied into the project)' : ''}${runs}`,
  );
}

function printImport(ctx: CommandContext, r: ImportReport): void {
  ctx.print(
    `Imported ${r.imported} images in ${(r.durationMs / 1000).toFixed(1)} s; ${r.duplicates} duplicates, ${r.skipped} skipped, ${r.failed} failed.`,
  );
  if (r.classesCreated.length) ctx.print(`New classes: ${r.classesCreated.join(', ')}`);
  if (r.warning) ctx.print(`Warning: ${r.warning.message}`);
  for (const f of r.failedFiles) ctx.print(`  failed   ${f.name}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`);
  for (const f of r.skippedFiles.slice(0, 20)) ctx.print(`  skipped  ${f.name}: ${f.reason}`);
  if (r.skippedFiles.length > 20) ctx.print(`  ... and ${r.skippedFiles.length - 20} more skipped`);
  for (const d of r.duplicateFiles.slice(0, 20)) ctx.print(`  duplicate ${d.name} (same as ${d.sameAsName})`);
}

/** `coop-studio project ...` commands. */
export const projectCommands: CommandSpec[] = [
  {
    name: 'project create',
    summary: 'Create an empty project.',
    args: 'NAME',
    options: {
      description: { type: 'string', description: 'A description.' },
      copy: {
        type: 'boolean',
        description: 'Copy imported images into the project instead of referencing them in place.',
      },
    },
    async run(ctx) {
      const name = ctx.positionals.join(' ').trim();
      if (!name) throw new AppError('bad_args', 'Give the project a name: `coop-studio project create NAME`.');
      const p = unwrap(
        await (
          await ctx.engine()
        ).call('projectCreate', {
          name,
          description: str(ctx, 'description') ?? '',
          copyImages: ctx.values['copy'] === true,
        }),
      );
      printSummary(ctx, p);
      return p;
    },
  },
  {
    name: 'project list',
    summary: 'List the projects.',
    async run(ctx) {
      const r = unwrap(await (await ctx.engine()).call('projectList', {}));
      if (r.projects.length === 0) ctx.print('No projects yet. Create one with `coop-studio project create NAME`.');
      for (const p of r.projects) printSummary(ctx, p);
      return r;
    },
  },
  {
    name: 'project show',
    summary: 'Show a project: classes, splits, missing files, runs and jobs.',
    args: '[ID|NAME]',
    options: {
      ...PROJECT_OPTION,
      'check-files': { type: 'boolean', description: 'Check which image files are missing on disk.' },
    },
    async run(ctx) {
      const client = await ctx.engine();
      const p = await resolveProject(client, ctx);
      const d = unwrap(
        await client.call('projectShow', { projectId: p.id, checkFiles: ctx.values['check-files'] === true }),
      );
      printSummary(ctx, d);
      for (const c of d.classList)
        ctx.print(
          `  ${c.folderName.padEnd(24)} "${c.prompt}" ${c.images} images${c.excluded ? ` (${c.excluded} excluded)` : ''}`,
        );
      ctx.print(
        `Splits: ${Object.entries(d.splits)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      if (d.missing)
        ctx.print(`${d.missing} image files are missing; relink them with \`coop-studio project relink\`.`);
      for (const r of d.runs)
        ctx.print(
          `  run #${r.id} ${r.method} ${r.shots}-shot seed ${r.seed}, ${new Date(r.createdAt).toISOString().slice(0, 16).replace('T', ' ')}: ${r.status}${r.testAccuracy !== null ? `, test ${(r.testAccuracy * 100).toFixed(1)}%` : ''}`,
        );
      for (const j of d.jobs.slice(0, 5)) ctx.print(`  job #${j.id} ${j.kind}: ${j.status}`);
      return d;
    },
  },
  {
    name: 'project run',
    summary: 'Show one learning run of a project: settings, curve, split, accuracies and the learned context.',
    args: 'RUN_ID',
    async run(ctx) {
      const runId = Number(ctx.positionals[0]);
      if (!Number.isInteger(runId) || runId <= 0)
        throw new AppError(
          'bad_args',
          'Name the run by its id: `coop-studio project run RUN_ID` (see `project show`).',
        );
      const r = unwrap(await (await ctx.engine()).call('projectRun', { runId }));
      ctx.print(
        `Run #${r.id} of project #${r.projectId}: ${r.method}, ${r.shots} shots, seed ${r.seed}, ${r.backend}: ${r.status}`,
      );
      if (r.error) ctx.print(`  error: ${r.error}`);
      ctx.print(`  classes: ${r.classes.map((c) => `${c.name} ("${c.prompt}")`).join(', ')}`);
      const count = (split: string) => r.images.filter((i) => i.split === split).length;
      ctx.print(`  split: ${count('train')} train, ${count('val')} validation, ${count('test')} test images`);
      const last = r.curve[r.curve.length - 1];
      if (last)
        ctx.print(`  curve: ${r.curve.length - 1} epochs recorded; last test accuracy ${pct(last.testAccuracy)}`);
      if (r.result)
        ctx.print(
          `  test accuracy: zero-shot ${pct(r.result.zeroShot.test.accuracy)} -> CoOp ${pct(r.result.test.accuracy)} on ${r.result.test.count} images`,
        );
      if (r.context) ctx.print(`  context: [${r.context.shape.join(', ')}] ${r.context.path ?? '(in the store only)'}`);
      return r;
    },
  },
  {
    name: 'project import-data',
    summary: 'Import images: folders of class folders, class folders, loose images, .zip files or a CSV of path,label.',
    args: 'SOURCE...',
    options: {
      ...PROJECT_OPTION,
      copy: { type: 'boolean', description: "Copy the images into the project (default: the project's setting)." },
      'no-thumbnails': {
        type: 'boolean',
        description: 'Do not make thumbnails (faster; also skips the full-decode check).',
      },
    },
    details: 'Example: coop-studio project import-data --project Birds ~/Pictures/birds extra.zip labels.csv',
    async run(ctx) {
      const client = await ctx.engine();
      const p = await resolveProject(client, ctx);
      const sources = ctx.positionals.map((s) => resolve(s));
      if (sources.length === 0)
        throw new AppError('bad_args', 'Name at least one folder, image, .zip or .csv to import.');
      let last = 0;
      const r = await cancellable(ctx, async (signal) =>
        unwrap(
          await client.call(
            'projectImportData',
            {
              projectId: p.id,
              sources,
              thumbnails: ctx.values['no-thumbnails'] !== true,
              ...(ctx.values['copy'] === true ? { copy: true } : {}),
            },
            {
              signal,
              onProgress: (e) => {
                if (Date.now() - last < 1000) return;
                last = Date.now();
                ctx.log(
                  `scanned ${e.scanned}/${e.total}, imported ${e.imported}, skipped ${e.skipped}, failed ${e.failed}, duplicates ${e.duplicates}`,
                );
              },
            },
          ),
        ),
      );
      printImport(ctx, r);
      return r;
    },
  },
  {
    name: 'project embed',
    summary: 'Compute the image embeddings a project is missing (cached by image, model and view).',
    options: {
      ...PROJECT_OPTION,
      model: MODEL_OPT,
      'batch-size': { type: 'string', valueName: 'N', description: 'Images per batch.', defaultText: '16' },
    },
    async run(ctx) {
      const client = await ctx.engine();
      const p = await resolveProject(client, ctx);
      const r = await cancellable(ctx, async (signal) =>
        unwrap(
          await client.call(
            'projectEmbed',
            {
              projectId: p.id,
              ...(modelOpt(ctx) !== undefined ? { modelDir: modelOpt(ctx) } : {}),
              batchSize: int(ctx, 'batch-size', 16),
            },
            { signal, onProgress: (e) => ctx.log(`embedded ${e.done}/${e.total} (${e.cached} cached)`) },
          ),
        ),
      );
      ctx.print(
        `${r.computed} embeddings computed, ${r.cached} from the cache, ${r.failed.length} failed (model ${r.modelId}).`,
      );
      for (const f of r.failed) ctx.print(`  failed ${f.path}: ${f.reason}`);
      return r;
    },
  },
  {
    name: 'project relink',
    summary: "Find a project's moved images in a folder by content hash.",
    args: 'FOLDER',
    options: PROJECT_OPTION,
    async run(ctx) {
      const client = await ctx.engine();
      const p = await resolveProject(client, ctx);
      const folder = ctx.positionals[0];
      if (!folder)
        throw new AppError('bad_args', 'Name the folder to search: `coop-studio project relink --project ID FOLDER`.');
      const r = unwrap(await client.call('projectRelink', { projectId: p.id, folder: resolve(folder) }));
      ctx.print(`Relinked ${r.relinked} images; ${r.stillMissing} still missing.`);
      return r;
    },
  },
  {
    name: 'project export',
    summary: 'Export a project as one .coopproj file (classes, images, runs, curves, learned contexts).',
    options: {
      ...PROJECT_OPTION,
      out: {
        type: 'string',
        short: 'o',
        valueName: 'FILE',
        description: 'The file to write.',
        defaultText: '<name>.coopproj',
      },
      'no-images': { type: 'boolean', description: 'Leave the images out (rows and runs only).' },
    },
    async run(ctx) {
      const client = await ctx.engine();
      const p = await resolveProject(client, ctx);
      const file = resolve(str(ctx, 'out') ?? `${p.name.replace(/[^\w.-]+/g, '_')}.coopproj`);
      const r = unwrap(
        await client.call('projectExport', { projectId: p.id, file, includeImages: ctx.values['no-images'] !== true }),
      );
      ctx.print(`Wrote ${r.file} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.images} images).`);
      return r;
    },
  },
  {
    name: 'project import',
    summary: 'Import a project exported with `project export`.',
    args: 'FILE',
    options: { name: { type: 'string', description: 'A new name for the imported project.' } },
    async run(ctx) {
      const file = ctx.positionals[0];
      if (!file) throw new AppError('bad_args', 'Name the .coopproj file to import.');
      const name = str(ctx, 'name');
      const p = unwrap(
        await (await ctx.engine()).call('projectImportFile', { file: resolve(file), ...(name ? { name } : {}) }),
      );
      printSummary(ctx, p);
      return p;
    },
  },
];
