/**
 * @file The CLI's command model: declaration, parsing, help, output discipline (Node).
 *
 * [Note: CLI output] The CLI is a public interface. With `--json` a command prints exactly one
 * JSON object on stdout (its result, or `{ "ok": false, "error": {...} }` on failure, with a
 * non-zero exit code); progress and logs always go to stderr. Without `--json` it prints a human
 * summary on stdout. Every command answers `--help`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EngineClient } from '../../../shared/client';
import { AppError, type AppErrorData, type ErrorReason } from '../../../shared/result';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  short?: string;
  multiple?: boolean;
  /** Shown in help; the command applies defaults itself. */
  defaultText?: string;
  /** Placeholder in help, e.g. DIR. */
  valueName?: string;
}

/** What a command's `run` gets. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  json: boolean;
  /** Human output (stdout, only without --json). */
  print(line: string): void;
  /** Progress and logs (stderr, always). */
  log(line: string): void;
  /** A client to the engine worker, started on first use and stopped when the command ends. */
  engine(): Promise<EngineClient>;
}

/** A CLI command. `name` may have two words (`models list`). */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments in the usage line, e.g. `TEXT...`. */
  args?: string;
  options?: Record<string, OptionSpec>;
  /** Extra help text (examples). */
  details?: string;
  /** Long-running service (serve): the CLI does not stop the engine when `run` resolves. */
  service?: boolean;
  /** Returns the JSON result (printed with --json) after printing its own human output. */
  run(ctx: CommandContext): Promise<unknown>;
}

/** Options every command has. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'Print exactly one JSON object on stdout (logs go to stderr).' },
  help: { type: 'boolean', short: 'h', description: 'Show help for this command.' },
};

/** Formats a command's help. */
export function commandHelp(cmd: CommandSpec): string {
  const opts = { ...cmd.options, ...COMMON_OPTIONS };
  const lines = [
    `Usage: coop-studio ${cmd.name}${Object.keys(opts).length ? ' [options]' : ''}${cmd.args ? ` ${cmd.args}` : ''}`,
    '',
    cmd.summary,
    '',
    'Options:',
  ];
  for (const [name, o] of Object.entries(opts)) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    const def = o.defaultText ? ` (default: ${o.defaultText})` : '';
    lines.push(`  ${flag.padEnd(30)} ${o.description}${def}`);
  }
  if (cmd.details) lines.push('', cmd.details);
  return lines.join('\n');
}

/** Parses argv for one command; unknown options are a `bad_args` error with the help hint. */
export function parseCommandArgs(
  cmd: CommandSpec,
  argv: string[],
): { values: CommandContext['values']; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...cmd.options, ...COMMON_OPTIONS })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as CommandContext['values'], positionals };
  } catch (e) {
    throw new AppError(
      'bad_args',
      `${e instanceof Error ? e.message : String(e)}. See \`coop-studio ${cmd.name} --help\`.`,
    );
  }
}

/** Reads a string option. */
export function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Reads a path option, resolved against the working directory. */
export function pathOpt(ctx: CommandContext, name: string): string | undefined {
  const v = str(ctx, name);
  return v === undefined ? undefined : resolve(v);
}

/** `--model DIR|ID`: every command that runs a CLIP model (see [Note: one model resolver] in the engine). */
export const MODEL_OPT: OptionSpec = {
  type: 'string',
  valueName: 'DIR|ID',
  description: 'CLIP model: a folder in Hugging Face layout or an installed model id (see `coop-studio models list`).',
  defaultText: 'the active model (`coop-studio models use ID`; the embedded demo model until one is chosen)',
};

/**
 * Reads `--model`: a folder that exists relative to the working directory is sent as its absolute path (the engine
 * runs elsewhere); anything else is sent as written, an installed model id (or a path the engine reports as missing).
 */
export function modelOpt(ctx: CommandContext, name = 'model'): string | undefined {
  const v = str(ctx, name);
  return v === undefined ? undefined : modelArg(v);
}

/** One model as the user wrote it, as {@link modelOpt} sends it (a folder as its absolute path, else an id). */
export function modelArg(v: string): string {
  const full = resolve(v);
  const pathLike = /[\\/]/.test(v) || v.startsWith('.') || v.startsWith('~');
  return pathLike || existsSync(full) ? full : v;
}

/** Reads an integer option, with a clear error for non-integers. */
export function int(ctx: CommandContext, name: string, fallback: number): number {
  const v = str(ctx, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new AppError('bad_args', `--${name} must be a whole number, got "${v}".`);
  return n;
}

/** Reads a number option that must be >= 0, with a clear error otherwise. */
export function nonNegative(ctx: CommandContext, name: string): number | undefined {
  const v = str(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0) || !Number.isFinite(n))
    throw new AppError('bad_args', `--${name} must be a number >= 0, got "${v}".`);
  return n;
}

/** What to do about an error with a reason, in the CLI's own flags (see [Note: error reasons]). */
const CLI_HINTS: Record<ErrorReason, string> = {
  too_few_classes:
    'Give a dataset folder with one sub-folder of images per class (--data DIR), or a project with two classes or more.',
  no_test_images: 'Add images, lower --shots, or give a separate test folder with --test DIR.',
  model_mismatch: 'Pass --model with the model it was learned with (its folder or installed id).',
};

/** The CLI's hint for an error, or null (see [Note: error reasons]). */
export function cliHint(e: AppErrorData): string | null {
  return e.reason ? CLI_HINTS[e.reason] : null;
}

/** Human sentence for an error in the terminal, with the CLI's hint when the error has a reason. */
export function describeError(e: AppErrorData): string {
  const hint = cliHint(e);
  return `Error (${e.code}): ${e.message}${hint ? `\n${hint}` : ''}`;
}
