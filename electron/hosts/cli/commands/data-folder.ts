/**
 * @file CLI commands `data-folder show` and `data-folder move` (Node; runs without the engine worker).
 */
import { AppError } from '../../../../shared/result';
import { moveDataFolder, readLocationPointer } from '../../../engine/settings/data-location';
import { dataDir, defaultDataDir } from '../../../engine/settings/paths';
import { str, type CommandSpec } from '../command';

function describe() {
  const def = defaultDataDir();
  const fromEnv = process.env['COOP_STUDIO_DATA_DIR'];
  const moved = readLocationPointer(def);
  const source = fromEnv ? 'environment (COOP_STUDIO_DATA_DIR)' : moved ? 'moved by the user' : 'OS default';
  return { dataDir: dataDir(), source, defaultDataDir: def };
}

/** `coop-studio data-folder show`. */
export const dataFolderShowCommand: CommandSpec = {
  name: 'data-folder show',
  summary: 'Print where the data folder is (database, caches, downloaded models) and why.',
  async run(ctx) {
    const d = describe();
    ctx.print(`${d.dataDir}  (${d.source})`);
    return d;
  },
};

/** `coop-studio data-folder move`. */
export const dataFolderMoveCommand: CommandSpec = {
  name: 'data-folder move',
  summary: 'Move the data folder to an empty or new folder; the app uses it from then on.',
  options: { to: { type: 'string', valueName: 'DIR', description: 'The new location (empty or not existing).' } },
  details: 'Stop the desktop app and any `coop-studio serve` first: the engine must not have the database open.',
  async run(ctx) {
    const to = str(ctx, 'to');
    if (!to) throw new AppError('bad_args', 'Say where to move the data folder with --to DIR.');
    if (process.env['COOP_STUDIO_DATA_DIR']) {
      throw new AppError(
        'conflict',
        'COOP_STUDIO_DATA_DIR is set, so the data folder is not managed by the app; change the variable instead.',
      );
    }
    ctx.log(`moving ${dataDir()} to ${to} ...`);
    const report = moveDataFolder(dataDir(), to, defaultDataDir());
    ctx.print(
      `Moved ${report.files} files (${(report.bytes / 1e6).toFixed(1)} MB) from ${report.from} to ${report.to}.`,
    );
    return report;
  },
};
