/**
 * @file Entry of the `coop-studio` command-line tool (Node).
 *
 * See [Note: CLI output]. Commands reach the engine through a worker process (the same entry
 * the desktop app and the web mode use), started only when a command needs it.
 */
import type { EngineClient } from '../../../shared/client';
import { toAppError } from '../../../shared/result';
import { startEngineProcess } from '../engine-host/engine-host';
import { appVersion } from '../../engine/settings/paths';
import {
  cliHint,
  commandHelp,
  describeError,
  parseCommandArgs,
  type CommandContext,
  type CommandSpec,
} from './command';
import { COMMANDS } from './commands';

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `coop-studio ${appVersion()}: teach a frozen CLIP model a new image classification task (CoOp prompt learning).`,
    '',
    'Usage: coop-studio <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Every command answers --help and, with --json, prints exactly one JSON object on stdout.',
    'The data folder is the OS user-data folder unless COOP_STUDIO_DATA_DIR is set.',
  ].join('\n');
}

function findCommand(argv: string[]): { cmd: CommandSpec; rest: string[] } | null {
  const two = `${argv[0] ?? ''} ${argv[1] ?? ''}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { cmd: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { cmd: byOne, rest: argv.slice(1) } : null;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(globalHelp() + '\n');
    return 0;
  }
  if (argv[0] === '--version') argv = ['version', ...argv.slice(1)];
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0] ?? ''} `));
    const message = group.length
      ? `"${argv[0] ?? ''}" needs a subcommand: ${group.map((c) => c.name.split(' ')[1]).join(', ')}. See \`coop-studio ${argv[0] ?? ''} <subcommand> --help\`.`
      : `Unknown command "${argv[0] ?? ''}". See \`coop-studio --help\`.`;
    return report(wantsJson, { code: 'bad_args', message });
  }
  const { cmd, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd) + '\n');
    return 0;
  }
  let client: EngineClient | null = null;
  try {
    const { values, positionals } = parseCommandArgs(cmd, rest);
    const json = values['json'] === true;
    const ctx: CommandContext = {
      values,
      positionals,
      json,
      print: (line) => {
        if (!json) process.stdout.write(line + '\n');
      },
      log: (line) => process.stderr.write(line + '\n'),
      engine: async () => (client ??= await startEngineProcess()),
    };
    const result = await cmd.run(ctx);
    if (json) process.stdout.write(JSON.stringify(result) + '\n');
    if (cmd.service) return -1;
    return 0;
  } catch (e) {
    return report(wantsJson, toAppError(e));
  } finally {
    if (!cmd.service) await (client as EngineClient | null)?.close();
  }
}

function report(json: boolean, error: ReturnType<typeof toAppError>): number {
  const hint = cliHint(error);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: hint ? { ...error, hint } : error }) + '\n');
  else process.stderr.write(describeError(error) + '\n');
  if (error.detail && process.env['COOP_STUDIO_DEBUG']) process.stderr.write(error.detail + '\n');
  return error.code === 'bad_args' ? 2 : 1;
}

void runCli(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
