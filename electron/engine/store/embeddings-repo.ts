/**
 * @file The embedding cache and the text-feature cache (engine, plain Node).
 *
 * See [Note: content-addressed embeddings]. A model's id changes when its files change (it is
 * derived from file sizes and hashes), so a changed model simply misses the cache; old rows are
 * dropped with `dropEmbeddingsOfOtherModels` or `dropEmbeddingsOfModel`.
 */
import { createHash } from 'node:crypto';
import { blobToFloats, floatsToBlob } from './blob';
import type { Db } from './db';
import { stmt } from './statements';

/** One embedding to store. */
export interface EmbeddingRow {
  sha256: string;
  vec: Float32Array;
}

/** The cached embeddings of `hashes` for (model, view); absent hashes are missing from the map. */
export function getEmbeddings(
  db: Db,
  hashes: readonly string[],
  modelId: string,
  viewId: string,
): Map<string, Float32Array> {
  const got = embeddingStore(db).get(
    modelId,
    hashes.map((sha256) => ({ sha256, viewId })),
  );
  const out = new Map<string, Float32Array>();
  hashes.forEach((h, i) => {
    const v = got[i];
    if (v) out.set(h, v);
  });
  return out;
}

/** Which of `hashes` have no cached embedding for (model, view). */
export function missingEmbeddings(db: Db, hashes: readonly string[], modelId: string, viewId: string): string[] {
  const has = stmt(db, 'SELECT 1 FROM embeddings WHERE image_sha256 = ? AND model_id = ? AND view_id = ?');
  return hashes.filter((h) => has.get(h, modelId, viewId) === undefined);
}

/** Stores embeddings for (model, view) in one transaction. */
export function putEmbeddings(db: Db, rows: readonly EmbeddingRow[], modelId: string, viewId: string): void {
  embeddingStore(db).put(
    modelId,
    rows.map((r) => ({ sha256: r.sha256, viewId, vec: r.vec })),
  );
}

/**
 * The embedding cache keyed per (sha256, view id), the shape the trainer's `embedAll` takes (see
 * [Note: persistent features]); writes go in one transaction per call.
 */
export function embeddingStore(db: Db): {
  get(modelId: string, keys: readonly { sha256: string; viewId: string }[]): (Float32Array | undefined)[];
  put(modelId: string, rows: readonly { sha256: string; viewId: string; vec: Float32Array }[]): void;
} {
  return {
    get(modelId, keys) {
      const get = stmt(db, 'SELECT dim, vec FROM embeddings WHERE image_sha256 = ? AND model_id = ? AND view_id = ?');
      return keys.map((k) => {
        const r = get.get(k.sha256, modelId, k.viewId) as { dim: number; vec: Buffer } | undefined;
        return r ? blobToFloats(r.vec, r.dim) : undefined;
      });
    },
    put(modelId, rows) {
      const put = stmt(
        db,
        `INSERT OR REPLACE INTO embeddings (image_sha256, model_id, view_id, dim, vec, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      );
      const now = Date.now();
      db.transaction(() => {
        for (const r of rows) put.run(r.sha256, modelId, r.viewId, r.vec.length, floatsToBlob(r.vec), now);
      })();
    },
  };
}

/** Drops every cached embedding of a model; returns how many. */
export function dropEmbeddingsOfModel(db: Db, modelId: string): number {
  return stmt(db, 'DELETE FROM embeddings WHERE model_id = ?').run(modelId).changes;
}

/** Counts cached embeddings of a model. */
export function countEmbeddings(db: Db, modelId: string): number {
  return (stmt(db, 'SELECT count(*) AS n FROM embeddings WHERE model_id = ?').get(modelId) as { n: number }).n;
}

function textKey(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Cached text features of `texts` for a model; absent texts are missing from the map. */
export function getTextFeatures(db: Db, texts: readonly string[], modelId: string): Map<string, Float32Array> {
  const get = stmt(db, 'SELECT dim, vec FROM text_features WHERE text_sha256 = ? AND model_id = ?');
  const out = new Map<string, Float32Array>();
  for (const t of texts) {
    const r = get.get(textKey(t), modelId) as { dim: number; vec: Buffer } | undefined;
    if (r) out.set(t, blobToFloats(r.vec, r.dim));
  }
  return out;
}

/** Stores text features for a model in one transaction. */
export function putTextFeatures(db: Db, rows: readonly { text: string; vec: Float32Array }[], modelId: string): void {
  const put = stmt(
    db,
    'INSERT OR REPLACE INTO text_features (text_sha256, model_id, text, dim, vec, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const now = Date.now();
  db.transaction(() => {
    for (const r of rows) put.run(textKey(r.text), modelId, r.text, r.vec.length, floatsToBlob(r.vec), now);
  })();
}

/** Records a model the store has seen (id, where it came from, its files and hashes). */
export function recordModel(
  db: Db,
  model: { id: string; source: string; dir: string; files: { path: string; bytes: number; sha256?: string }[] },
): void {
  stmt(
    db,
    `INSERT INTO models (id, source, dir, files_json, added_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET source = excluded.source, dir = excluded.dir, files_json = excluded.files_json`,
  ).run(model.id, model.source, model.dir, JSON.stringify(model.files), Date.now());
}
