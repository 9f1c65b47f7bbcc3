/**
 * @file Test support for the hostile-files suite: hand-written zip archives (any name, lying sizes, zip bombs built
 * without ever holding the expanded bytes), crafted project files, and a check that nothing was written outside a
 * folder (tests, plain Node).
 *
 * Not imported by the app. The zip writer is deliberately naive: it writes what it is told, so tests can say things
 * no honest zip library would (a `../` name, a size that lies, a deflate stream that expands a thousand-fold).
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { CONTEXT_FORMAT_VERSION, type ContextMetadata } from '../../electron/engine/formats/context-file';

/** Knobs every entry has: header fields to write instead of the honest ones. */
interface EntryKnobs {
  name: string;
  /** General-purpose flags (bit 0: encrypted; bit 11, set by default: UTF-8 name). */
  flags?: number;
  /** Compression method to write (default: 0 stored, 8 deflate). */
  method?: number;
  /** CRC-32 to write instead of the real one. */
  crc?: number;
  /** Write no data of its own: point the central directory at entry `n`'s local header (overlapping entries). */
  sameDataAs?: number;
}

/** One entry to write: stored bytes, or a ready deflate stream with the size and CRC it expands to. */
export type CraftEntry =
  | (EntryKnobs & { data: Uint8Array; deflate?: boolean })
  | (EntryKnobs & {
      deflated: Uint8Array;
      size: number;
      crc: number;
      /** Size written into the headers instead of `size` (a lying archive). */
      declaredSize?: number;
    });

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** The bytes of a zip holding `entries`; `zip64` writes every size and offset in ZIP64 form. */
export function craftZip(entries: readonly CraftEntry[], opts: { zip64?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    let body: Uint8Array;
    let size: number;
    let crc: number;
    let method: number;
    if ('data' in e) {
      method = e.deflate ? 8 : 0;
      body = e.deflate ? deflateRawSync(e.data) : e.data;
      size = e.data.byteLength;
      crc = crc32(e.data);
    } else {
      method = 8;
      body = e.deflated;
      size = e.declaredSize ?? e.size;
      crc = e.crc;
    }
    method = e.method ?? method;
    crc = e.crc ?? crc;
    const z = opts.zip64 === true;
    const head = (sizes: Buffer[]) => [
      u16(z ? 45 : 20),
      u16(e.flags ?? 0x0800),
      u16(method),
      u16(0),
      u16(0x21),
      u32(crc),
      ...sizes,
    ];
    const sizes32 = z ? [u32(0xffffffff), u32(0xffffffff)] : [u32(body.byteLength), u32(size)];
    const at = e.sameDataAs === undefined ? offset : (offsets[e.sameDataAs] ?? 0);
    offsets.push(at);
    const extra = z ? Buffer.concat([u16(1), u16(24), u64(size), u64(body.byteLength), u64(at)]) : Buffer.alloc(0);
    if (e.sameDataAs === undefined) {
      const localExtra = z ? Buffer.concat([u16(1), u16(16), u64(size), u64(body.byteLength)]) : Buffer.alloc(0);
      const local = Buffer.concat([
        u32(0x04034b50),
        ...head(sizes32),
        u16(name.length),
        u16(localExtra.length),
        name,
        localExtra,
      ]);
      parts.push(local, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      offset += local.length + body.byteLength;
    }
    central.push(
      Buffer.concat([
        u32(0x02014b50),
        u16(z ? 45 : 20),
        ...head(sizes32),
        u16(name.length),
        u16(extra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(z ? 0xffffffff : at),
        name,
        extra,
      ]),
    );
  }
  const cd = Buffer.concat(central);
  const n = entries.length;
  if (!opts.zip64) {
    const eocd = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(n), u16(n), u32(cd.length), u32(offset), u16(0)]);
    return Buffer.concat([...parts, cd, eocd]);
  }
  const record = Buffer.concat([
    u32(0x06064b50),
    u64(44),
    u16(45),
    u16(45),
    u32(0),
    u32(0),
    u64(n),
    u64(n),
    u64(cd.length),
    u64(offset),
  ]);
  const locator = Buffer.concat([u32(0x07064b50), u32(0), u64(offset + cd.length), u32(1)]);
  const eocd = Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(0xffff),
    u16(0xffff),
    u32(0xffffffff),
    u32(0xffffffff),
    u16(0),
  ]);
  return Buffer.concat([...parts, cd, record, locator, eocd]);
}

/**
 * A deflate stream of `mib` MiB of zeros, built from one flushed block repeated (a full flush resets the compressor,
 * so every 1 MiB block compresses to the same bytes): about 1 kB per MiB, and the zeros are never materialised.
 */
export function zeroBomb(mib: number): { deflated: Buffer; size: number; crc: number } {
  const zeros = Buffer.alloc(1 << 20);
  const block = deflateRawSync(zeros, { finishFlush: constants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < mib; i++) crc = crc32(zeros, crc);
  // A final fixed-Huffman block holding only the end-of-block code.
  const deflated = Buffer.concat([...Array.from({ length: mib }, () => block), Buffer.from([0x03, 0x00])]);
  return { deflated, size: mib << 20, crc };
}

/** Hex sha256 of bytes. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file below `dir`, relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** A project.json document like `project export` writes, with one image per given entry (fields overridable). */
export function projectDoc(
  images: readonly { file: string | null; sha256: string; bytes: number; origin?: string }[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    format: 'coop-studio-project',
    version: 1,
    project: { name: 'Crafted', description: '' },
    classes: [{ id: 1, folder_name: 'cats', prompt: 'cats', sort_order: 0, colour: '#ff0000' }],
    images: images.map((img) => ({
      class_id: 1,
      origin: img.origin ?? '/somewhere/cat.png',
      sha256: img.sha256,
      bytes: img.bytes,
      width: 24,
      height: 16,
      format: 'png',
      split: 'auto',
      excluded: 0,
      file: img.file,
    })),
    runs: [],
    metrics: [],
    run_images: [],
    contexts: [],
    ...extra,
  };
}

/** Writes a project file: `project.json` from `doc` plus the given raw entries. */
export function writeProjectFile(file: string, doc: unknown, entries: readonly CraftEntry[] = []): void {
  writeFileSync(file, craftZip([{ name: 'project.json', data: Buffer.from(JSON.stringify(doc)) }, ...entries]));
}

/** Size of a file in bytes. */
export function fileSize(file: string): number {
  return statSync(file).size;
}

/** Metadata of a context file (see [Note: context file]) for `classNames`, learned with a model of this id. */
export function contextMeta(classNames: string[], modelId = 'clip-0000000000000000', nCtx = 4): ContextMetadata {
  return {
    formatVersion: CONTEXT_FORMAT_VERSION,
    method: 'coop',
    model: { id: modelId, dir: '/models/x', files: [] },
    tokenizer: { kind: 'clip-bpe', vocabSize: 49408, contextLength: 77 },
    classNames,
    prompts: classNames.map((c) => `a photo of a ${c}.`),
    nCtx,
    csc: false,
    position: 'end',
    init: 'random',
    seed: 1,
    shots: 1,
    epochs: 1,
    augViews: 0,
    backend: 'cpu',
    metrics: { test: 0.5 },
    appVersion: '0.0.0',
    nearestTokens: [],
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}
