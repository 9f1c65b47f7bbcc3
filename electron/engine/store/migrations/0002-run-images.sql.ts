/**
 * @file Migration 0002: a run's split and test predictions, and epoch durations on curves (engine, plain Node).
 *
 * [Note: run images] A learning run samples its own train / validation / test split from its seed, so the split
 * belongs to the run, not to the image (`images.split` is the user's fixed choice). `run_images` keeps, per run,
 * which image went where and, for test images, the class the learned prompt predicted and its softmax confidence.
 * Rows keep the path and content hash next to the image id, so a run still shows its split after an image is
 * deleted from the project (`image_id` then becomes NULL).
 */

/** SQL of migration 0002. */
export const MIGRATION_0002_RUN_IMAGES = `
CREATE TABLE run_images (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  image_id INTEGER REFERENCES images(id) ON DELETE SET NULL,
  path TEXT NOT NULL,
  sha256 TEXT,
  label INTEGER NOT NULL,
  split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
  predicted INTEGER,
  confidence REAL,
  PRIMARY KEY (run_id, path)
) STRICT;
CREATE INDEX run_images_image ON run_images(image_id);

ALTER TABLE metrics ADD COLUMN seconds REAL;
`;
