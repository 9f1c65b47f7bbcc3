/**
 * @file Migration 0001: the initial schema of the project store (engine, plain Node).
 *
 * [Note: immutable migrations] Once released, a migration's SQL never changes: the store records
 * the sha256 of every applied migration and refuses to open a database whose recorded hash differs
 * from the file (see `migrate` in db.ts). Schema changes go into a new numbered file.
 *
 * [Note: content-addressed embeddings] `embeddings` is keyed by the image's content sha256, the
 * model id and the view id, not by an image row, so the cache is shared across projects and
 * survives deleting and re-importing a project. It has no foreign key to `images` on purpose.
 */

/** SQL of migration 0001. */
export const MIGRATION_0001_INIT = `
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- Folder for copied images, or NULL when images are referenced in place.
  copy_dir TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE classes (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  folder_name TEXT NOT NULL,
  prompt TEXT NOT NULL,
  sort_order INTEGER NOT NULL,
  colour TEXT NOT NULL,
  UNIQUE (project_id, folder_name)
) STRICT;
CREATE INDEX classes_project ON classes(project_id, sort_order);

CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  class_id INTEGER REFERENCES classes(id) ON DELETE SET NULL,
  path TEXT NOT NULL,
  -- Where the image came from (zip entry, original path) for people; path is what the app reads.
  origin TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  format TEXT NOT NULL,
  split TEXT NOT NULL DEFAULT 'auto' CHECK (split IN ('auto', 'train', 'val', 'test')),
  excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
  thumbnail TEXT,
  missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1)),
  -- True when the file is a copy the project owns (inside the data folder).
  copied INTEGER NOT NULL DEFAULT 0 CHECK (copied IN (0, 1)),
  added_at INTEGER NOT NULL,
  UNIQUE (project_id, sha256)
) STRICT;
CREATE INDEX images_class ON images(class_id);
CREATE INDEX images_hash ON images(sha256);

CREATE TABLE models (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  dir TEXT NOT NULL,
  files_json TEXT NOT NULL,
  added_at INTEGER NOT NULL
) STRICT;

CREATE TABLE embeddings (
  image_sha256 TEXT NOT NULL,
  model_id TEXT NOT NULL,
  view_id TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vec BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (image_sha256, model_id, view_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX embeddings_model ON embeddings(model_id);

CREATE TABLE text_features (
  text_sha256 TEXT NOT NULL,
  model_id TEXT NOT NULL,
  text TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vec BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (text_sha256, model_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  project_id INTEGER REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
  detail_json TEXT NOT NULL DEFAULT '{}',
  error TEXT,
  started_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  model_id TEXT NOT NULL,
  method TEXT NOT NULL,
  options_json TEXT NOT NULL,
  seed INTEGER NOT NULL,
  shots INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
  backend TEXT NOT NULL,
  error TEXT,
  result_json TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  duration_ms REAL
) STRICT;
CREATE INDEX runs_project ON runs(project_id);

CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  step INTEGER NOT NULL,
  loss REAL,
  train_acc REAL,
  val_acc REAL,
  test_acc REAL,
  lr REAL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
) STRICT;

CREATE TABLE contexts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT 'ctx',
  shape_json TEXT NOT NULL,
  tensor BLOB NOT NULL,
  meta_json TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  UNIQUE (run_id, name)
) STRICT;

CREATE TABLE undo_log (
  id INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  inverse_json TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
`;
