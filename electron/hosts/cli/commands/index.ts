/**
 * @file Every CLI command (Node). Each domain adds its commands here.
 */
import type { CommandSpec } from '../command';
import { dataFolderMoveCommand, dataFolderShowCommand } from './data-folder';
import { modelsCommands } from './models';
import { projectCommands } from './project';
import { serveCommand } from './serve';
import { clipCommands } from './clip';
import { checkModelCommand } from './model-check';
import { doctorCommand, versionCommand } from './system';
import { trainCommands } from './train';
import { methodsCommands } from './methods';
import { experimentsCommands } from './experiments';
import { similarityMapCommand } from './similarity-map';

/** All commands, in the order `--help` lists them. */
export const COMMANDS: CommandSpec[] = [
  versionCommand,
  doctorCommand,
  serveCommand,
  ...modelsCommands,
  dataFolderShowCommand,
  dataFolderMoveCommand,
  ...projectCommands,
  ...trainCommands,
  ...methodsCommands,
  ...experimentsCommands,
  similarityMapCommand,
  ...clipCommands,
  checkModelCommand,
];
