/**
 * @file CLI commands `models list|download|import|remove|use|endpoint` (Node).
 *
 * [Note: download progress bar] On a terminal the download redraws one progress line on stderr
 * (`\r`); when stderr is a file or a pipe it writes a plain line at each phase, at each file and at
 * most every few seconds, so logs stay readable. Ctrl-C cancels the job cleanly; the partial files
 * stay in the data folder and the same command resumes them.
 */
import type { DownloadProgress, InstalledModel } from '../../../../shared/contract/models';
import { AppError, unwrap } from '../../../../shared/result';
import { str, type CommandContext, type CommandSpec } from '../command';

const VARIANT_HELP = 'fp32 (full precision), fp16 (half the size) or quantized (int8, about a quarter)';

function variantOf(ctx: CommandContext): 'fp32' | 'fp16' | 'quantized' {
  const v = str(ctx, 'variant') ?? 'fp32';
  if (v !== 'fp32' && v !== 'fp16' && v !== 'quantized')
    throw new AppError('bad_args', `--variant must be fp32, fp16 or quantized, got "${v}".`);
  return v;
}

/** Bytes as a short human size (decimal units, as the hub shows them). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1e3;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i] ?? ''}`;
}

function formatEta(s: number | null): string {
  if (s === null) return '--';
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}

function progressLine(e: DownloadProgress): string {
  if (e.phase !== 'download') return `${e.phase}${e.file ? ` ${e.file}` : ''}...`;
  const frac = e.total > 0 ? Math.min(1, e.bytes / e.total) : 0;
  const width = 24;
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  return (
    `${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(e.bytes)}/${formatBytes(e.total)} ` +
    `${formatBytes(e.bytesPerSecond)}/s ETA ${formatEta(e.etaSeconds)}  ${e.file ?? ''} (${e.fileIndex + 1}/${e.fileCount})`
  );
}

/** A progress reporter for stderr (see [Note: download progress bar]). */
function progressReporter(ctx: CommandContext): { update(e: DownloadProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let lastKey = '';
  let lastLog = 0;
  let drawn = false;
  return {
    update(e) {
      const line = progressLine(e);
      if (tty) {
        const cols = process.stderr.columns || 100;
        process.stderr.write(`\r${line.slice(0, cols - 1).padEnd(cols - 1)}`);
        drawn = true;
        return;
      }
      const key = `${e.phase}:${e.file ?? ''}`;
      const now = Date.now();
      if (e.phase === 'resolve' && key !== lastKey && lastKey.startsWith('resolve')) return;
      if (key !== lastKey || now - lastLog > 3000 || e.resumedFrom !== undefined) {
        const note =
          e.resumedFrom === undefined
            ? ''
            : e.resumedFrom === e.fileTotal
              ? ' (already downloaded)'
              : ` (resumed at ${formatBytes(e.resumedFrom)})`;
        ctx.log(line + note);
        lastKey = key;
        lastLog = now;
      }
    },
    done() {
      if (drawn) process.stderr.write('\n');
    },
  };
}

function describeModel(m: InstalledModel): string[] {
  const from = m.repo ? `${m.repo}@${m.revision ?? 'main'}` : m.source === 'embedded' ? 'embedded demo' : m.source;
  return [
    `${m.active ? '*' : ' '} ${m.id.padEnd(48)} ${m.variant.padEnd(9)} ${formatBytes(m.bytes).padStart(9)}  ${from}${m.problem ? `  [problem: ${m.problem}]` : ''}`,
    `    folder: ${m.dir}`,
  ];
}

/** `coop-studio models list`. */
export const modelsListCommand: CommandSpec = {
  name: 'models list',
  summary: 'List installed models (* = active) and the models you can download.',
  options: { installed: { type: 'boolean', description: 'Only the installed models, not the catalogue.' } },
  async run(ctx) {
    const listing = unwrap(await (await ctx.engine()).call('modelsList', {}));
    ctx.print('Installed models (* = active; `--model ID` or `--model FOLDER` picks another for one command):');
    for (const m of listing.installed) for (const line of describeModel(m)) ctx.print(line);
    if (listing.installed.length === 0) ctx.print('  none');
    if (listing.partial.length > 0) {
      ctx.print('Unfinished downloads (the same `models download` resumes them; `models remove ID` discards them):');
      for (const p of listing.partial)
        ctx.print(`  ${p.id.padEnd(48)} ${formatBytes(p.bytes).padStart(9)}${p.running ? '  (downloading now)' : ''}`);
    }
    if (ctx.values['installed'] !== true) {
      ctx.print('');
      ctx.print(`Catalogue (download with \`coop-studio models download REPO --variant V\`; ~ = estimated size):`);
      for (const c of listing.catalogue) {
        const sizes = c.variants
          .map((v) => `${v.variant} ${v.approximate ? '~' : ''}${formatBytes(v.totalBytes)}`)
          .join(', ');
        ctx.print(`  ${c.repo.padEnd(32)} ${c.title.padEnd(14)} ${sizes}`);
      }
      ctx.print(`Download endpoint: ${listing.endpoint} (${listing.endpointSource})`);
    }
    return listing;
  },
};

/** `coop-studio models download`. */
export const modelsDownloadCommand: CommandSpec = {
  name: 'models download',
  summary: 'Download a CLIP model from the Hugging Face hub (resumable: run it again after an interruption).',
  args: '[REPO]',
  options: {
    repo: { type: 'string', valueName: 'OWNER/NAME', description: 'Repository (or give it as the argument).' },
    variant: { type: 'string', valueName: 'V', description: VARIANT_HELP, defaultText: 'fp32' },
    revision: { type: 'string', valueName: 'REV', description: 'Branch, tag or commit.', defaultText: 'main' },
    endpoint: {
      type: 'string',
      valueName: 'URL',
      description: 'Hub endpoint (else $COOP_STUDIO_HF_ENDPOINT, the setting, https://huggingface.co).',
    },
    force: { type: 'boolean', description: 'Replace an installed copy of the same model.' },
    activate: { type: 'boolean', description: 'Make it the active model once installed.' },
  },
  details: 'Example: coop-studio models download Xenova/clip-vit-base-patch32 --variant quantized --activate',
  async run(ctx) {
    const repo = str(ctx, 'repo') ?? ctx.positionals[0];
    if (!repo)
      throw new AppError(
        'bad_args',
        'Name the repository, e.g. `coop-studio models download Xenova/clip-vit-base-patch32`.',
      );
    const endpoint = str(ctx, 'endpoint');
    const revision = str(ctx, 'revision');
    const controller = new AbortController();
    const onSigint = () => {
      ctx.log('\nCancelling; run the same command again to resume.');
      controller.abort();
    };
    process.once('SIGINT', onSigint);
    const reporter = progressReporter(ctx);
    try {
      const model = unwrap(
        await (
          await ctx.engine()
        ).call(
          'modelsDownload',
          {
            repo,
            variant: variantOf(ctx),
            force: ctx.values['force'] === true,
            activate: ctx.values['activate'] === true,
            ...(endpoint ? { endpoint } : {}),
            ...(revision ? { revision } : {}),
          },
          { onProgress: (e) => reporter.update(e), signal: controller.signal },
        ),
      );
      reporter.done();
      ctx.print(`Installed ${model.id} (${formatBytes(model.bytes)}, ${model.fileCount} files) in ${model.dir}`);
      if (model.active) ctx.print('It is now the active model.');
      return model;
    } finally {
      reporter.done();
      process.removeListener('SIGINT', onSigint);
    }
  },
};

/** `coop-studio models import`. */
export const modelsImportCommand: CommandSpec = {
  name: 'models import',
  summary: 'Import a model folder in Hugging Face layout (config.json, onnx/, tokenizer) from disk.',
  args: 'DIR',
  options: {
    reference: { type: 'boolean', description: 'Use the folder where it is instead of copying it.' },
    variant: { type: 'string', valueName: 'V', description: VARIANT_HELP, defaultText: 'fp32' },
    name: { type: 'string', valueName: 'NAME', description: 'Name in the model id.', defaultText: 'folder name' },
    force: { type: 'boolean', description: 'Replace an installed model with the same id.' },
    activate: { type: 'boolean', description: 'Make it the active model.' },
  },
  async run(ctx) {
    const path = ctx.positionals[0];
    if (!path) throw new AppError('bad_args', 'Name the folder to import: `coop-studio models import DIR`.');
    const name = str(ctx, 'name');
    const model = unwrap(
      await (
        await ctx.engine()
      ).call('modelsImport', {
        path,
        mode: ctx.values['reference'] === true ? 'reference' : 'copy',
        variant: variantOf(ctx),
        force: ctx.values['force'] === true,
        activate: ctx.values['activate'] === true,
        ...(name ? { name } : {}),
      }),
    );
    ctx.print(`Imported ${model.id} (${formatBytes(model.bytes)}, ${model.fileCount} files) from ${model.dir}`);
    return model;
  },
};

/** `coop-studio models remove`. */
export const modelsRemoveCommand: CommandSpec = {
  name: 'models remove',
  summary: 'Remove an installed model (a referenced folder stays on disk).',
  args: 'ID',
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id) throw new AppError('bad_args', 'Name the model id to remove (see `coop-studio models list`).');
    const r = unwrap(await (await ctx.engine()).call('modelsRemove', { id }));
    ctx.print(`Removed ${r.removed}. Active model: ${r.activeId}.`);
    return r;
  },
};

/** `coop-studio models use`. */
export const modelsUseCommand: CommandSpec = {
  name: 'models use',
  summary: 'Make an installed model the active one (the default of every --model).',
  args: 'ID',
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id) throw new AppError('bad_args', 'Name the model id to use (see `coop-studio models list`).');
    const m = unwrap(await (await ctx.engine()).call('modelsSetActive', { id }));
    ctx.print(`Active model: ${m.id}.`);
    return m;
  },
};

/** `coop-studio models endpoint`. */
export const modelsEndpointCommand: CommandSpec = {
  name: 'models endpoint',
  summary: 'Show or set the download endpoint setting (a Hugging Face mirror).',
  args: '[URL]',
  options: { reset: { type: 'boolean', description: 'Remove the setting (back to https://huggingface.co).' } },
  async run(ctx) {
    const engine = await ctx.engine();
    const url = ctx.positionals[0];
    if (url || ctx.values['reset'] === true)
      unwrap(await engine.call('settingsSet', { hfEndpoint: ctx.values['reset'] === true ? null : url }));
    const listing = unwrap(await engine.call('modelsList', {}));
    ctx.print(`Download endpoint: ${listing.endpoint} (${listing.endpointSource})`);
    return { endpoint: listing.endpoint, source: listing.endpointSource };
  },
};

/** Every `models` command. */
export const modelsCommands: CommandSpec[] = [
  modelsListCommand,
  modelsDownloadCommand,
  modelsImportCommand,
  modelsRemoveCommand,
  modelsUseCommand,
  modelsEndpointCommand,
];
