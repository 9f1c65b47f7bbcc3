/**
 * @file The ordered list of store migrations (engine, plain Node). See [Note: immutable migrations].
 */
import { MIGRATION_0001_INIT } from './0001-init.sql';
import { MIGRATION_0002_RUN_IMAGES } from './0002-run-images.sql';
import { MIGRATION_0003_OWNERS } from './0003-owners.sql';

/** One numbered migration. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '0001-init', sql: MIGRATION_0001_INIT },
  { version: 2, name: '0002-run-images', sql: MIGRATION_0002_RUN_IMAGES },
  { version: 3, name: '0003-owners', sql: MIGRATION_0003_OWNERS },
];
