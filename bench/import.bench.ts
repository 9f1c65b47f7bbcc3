/**
 * @file `npm run bench:import`: images per second of a data import (read + sha256 + sharp probe + 128 px WebP
 * thumbnail + SQLite rows) of generated images, as a ratio to just reading the same files (plain Node script run
 * by tsx).
 *
 * [Note: import bench] The baseline reads every file once with the same concurrency the importer uses (after one
 * warm-up read, so both measurements see the files in the page cache: the ratio measures our per-image work, not
 * the disk). Reported: images/s of reading, of a full import, and of an import without thumbnails (hash + probe
 * only), and import rate / read rate. Images are 320x240 JPEGs, a typical downscaled photo size; generated once and
 * reused from the temp folder. Environment: BENCH_IMAGES (default 10000), BENCH_CONCURRENCY (default 4).
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importData } from '../electron/engine/jobs/import-data';
import { closeStoreDb, storeDb } from '../electron/engine/store/db';
import { createProject } from '../electron/engine/store/projects-repo';
import { imageBytes } from '../electron/engine/store/test-images';
import { writeFile } from 'node:fs/promises';

const COUNT = Number(process.env['BENCH_IMAGES'] ?? 10_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 4);
const CLASSES = 10;
const src = join(tmpdir(), `coop-bench-import-${COUNT}`);

async function generate(): Promise<string[]> {
  const files = Array.from({ length: COUNT }, (_, i) => join(src, `class_${i % CLASSES}`, `img_${i}.jpg`));
  if (existsSync(join(src, 'complete'))) return files;
  rmSync(src, { recursive: true, force: true });
  for (let c = 0; c < CLASSES; c++) mkdirSync(join(src, `class_${c}`), { recursive: true });
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < COUNT; i = next++)
        await writeFile(files[i] ?? '', await imageBytes(i + 1, { w: 320, h: 240, format: 'jpeg' }));
    }),
  );
  await writeFile(join(src, 'complete'), '');
  console.error(`generated ${COUNT} images in ${((performance.now() - t) / 1000).toFixed(1)} s into ${src}`);
  return files;
}

async function readAll(files: string[]): Promise<{ seconds: number; bytes: number }> {
  const t = performance.now();
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < files.length; i = next++) bytes += (await readFile(files[i] ?? '')).byteLength;
    }),
  );
  return { seconds: (performance.now() - t) / 1000, bytes };
}

async function importOnce(thumbnails: boolean): Promise<{ seconds: number; imported: number }> {
  const dataDir = join(tmpdir(), `coop-bench-data-${process.pid}-${thumbnails ? 't' : 'n'}`);
  rmSync(dataDir, { recursive: true, force: true });
  const db = storeDb(dataDir);
  const project = createProject(db, 'bench', '', null);
  const t = performance.now();
  const r = await importData(db, {
    projectId: project.id,
    sources: [src],
    dataDir,
    thumbnails,
    concurrency: CONCURRENCY,
    signal: new AbortController().signal,
  });
  const seconds = (performance.now() - t) / 1000;
  closeStoreDb(dataDir);
  if (thumbnails) console.error(`thumbnails written: ${readdirSync(join(dataDir, 'thumbs')).length} shard folders`);
  rmSync(dataDir, { recursive: true, force: true });
  if (r.imported !== COUNT)
    throw new Error(`imported ${r.imported} of ${COUNT} (failed ${r.failed}, duplicates ${r.duplicates})`);
  return { seconds, imported: r.imported };
}

const files = await generate();
await readAll(files);
const read = await readAll(files);
const full = await importOnce(true);
const probe = await importOnce(false);
const rate = (n: number, s: number) => n / s;
const readRate = rate(COUNT, read.seconds);
const fullRate = rate(full.imported, full.seconds);
const probeRate = rate(probe.imported, probe.seconds);
const result = {
  images: COUNT,
  imageSize: '320x240 jpeg',
  meanBytes: Math.round(read.bytes / COUNT),
  concurrency: CONCURRENCY,
  machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.versions.node },
  readImagesPerSecond: Math.round(readRate),
  importImagesPerSecond: Math.round(fullRate),
  importNoThumbnailsImagesPerSecond: Math.round(probeRate),
  ratioImportToRead: Number((fullRate / readRate).toFixed(4)),
  ratioNoThumbnailsToRead: Number((probeRate / readRate).toFixed(4)),
};
console.log(JSON.stringify(result, null, 2));
