/**
 * @file Reads zip archives from disk without trusting them: the central directory first, then one entry at a time,
 * streamed, size-capped and checksummed (engine, plain Node).
 *
 * [Note: hostile archives] Dataset zips and project files come from other people. Reading a whole archive into
 * memory and expanding it (fflate's `unzipSync`) let a 1 MB zip expand to 1 GB in memory. Here:
 * - only the central directory is read up front (its size is bounded by the archive's and by a cap);
 * - before anything is expanded, the entries that will be read are checked against {@link ZIP_LIMITS}: each entry's
 *   declared size, the sum of them, and the expansion ratio of every entry above a floor (images are already
 *   compressed, so an honest image entry expands about 1:1; a zip bomb's entries expand a thousand-fold);
 * - entries whose data would overlap (the "overlapping files" bomb, where every entry reuses one compressed kernel)
 *   or run into the central directory are refused;
 * - an entry is expanded as a stream (zlib's 16 kB output chunks) and stops with an error the moment it produces
 *   more than its header declared; the CRC-32 and the final size are checked at the end. Memory per read is the
 *   entry's declared size at most (when collected) or one chunk (when streamed to a file).
 * Names in the archive are labels only: callers never use them as paths.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Readable } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import { quoted } from '../../../shared/describe-input';
import { AppError } from '../../../shared/result';

const MiB = 2 ** 20;

/** Limits on what one archive may expand to (see [Note: hostile archives]). */
export const ZIP_LIMITS = {
  /** Largest expanded size of one entry (also the largest central directory read). */
  maxEntryBytes: 256 * MiB,
  /** Largest expanded size of all entries read from one archive together. */
  maxTotalBytes: 16 * 1024 * MiB,
  /** Largest expansion ratio of an entry bigger than `ratioFloorBytes`. */
  maxRatio: 200,
  /** Entries up to this size may expand by any ratio (small files compress well and cannot hurt). */
  ratioFloorBytes: MiB,
  /** Most entries one archive may list. */
  maxEntries: 1_000_000,
} as const;

/** The limits one archive is read under. */
export type ZipLimits = { [K in keyof typeof ZIP_LIMITS]: number };

/** One entry of the central directory. */
export interface ZipEntry {
  /** The name as stored (a label: never used as a path). */
  name: string;
  isDirectory: boolean;
  /** 0 stored, 8 deflate; anything else cannot be read. */
  method: number;
  encrypted: boolean;
  compressedSize: number;
  /** Expanded size the headers declare. */
  size: number;
  crc: number;
  /** Offset of the local header, relative to the start of the archive's data. */
  localOffset: number;
  /** Offset the entry's data must end before (the next entry, or the central directory). */
  limit: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

function u64(b: Buffer, at: number): number {
  const v = b.readBigUInt64LE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}
const mib = (n: number) => `${(n / MiB).toFixed(n < 10 * MiB ? 1 : 0)} MiB`;

/** A zip archive on disk, opened by its central directory (see [Note: hostile archives]). */
export class ZipArchive {
  /** Bytes expanded by reads so far (counted against `maxTotalBytes`). */
  private expanded = 0;

  private constructor(
    readonly file: string,
    readonly entries: readonly ZipEntry[],
    private readonly base: number,
    private readonly limits: ZipLimits,
  ) {}

  /** Opens `file`; throws `invalid_data` naming what is wrong when it is not a zip archive this reader accepts. */
  static async open(file: string, limits: ZipLimits = ZIP_LIMITS): Promise<ZipArchive> {
    const name = basename(file);
    const bad = (why: string) => new AppError('invalid_data', `${name} is not a readable zip file: ${why}.`);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new AppError(code === 'ENOENT' ? 'not_found' : 'io_error', `Cannot open ${file} (${code ?? String(e)}).`);
    }
    try {
      const size = (await fh.stat()).size;
      const read = async (at: number, n: number) => {
        const b = Buffer.alloc(n);
        const { bytesRead } = await fh.read(b, 0, n, at);
        if (bytesRead !== n) throw bad('it ends early');
        return b;
      };
      const tailLen = Math.min(size, 22 + 0xffff);
      if (tailLen < 22) throw bad('it is too short to be a zip archive');
      const tail = await read(size - tailLen, tailLen);
      let at = -1;
      for (let i = tailLen - 22; i >= 0; i--) {
        if (tail.readUInt32LE(i) === SIG_EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tailLen) {
          at = i;
          break;
        }
      }
      if (at < 0) throw bad('it has no end-of-archive record (it is not a zip, or it was cut short)');
      const eocdPos = size - tailLen + at;
      if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0)
        throw bad('it is one part of a split (multi-volume) archive');
      let count = tail.readUInt16LE(at + 10);
      let cdSize = tail.readUInt32LE(at + 12);
      let cdOffset = tail.readUInt32LE(at + 16);
      let base = 0;
      let cdEnd = eocdPos;
      if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
        if (eocdPos < 20) throw bad('its ZIP64 locator is missing');
        const loc = await read(eocdPos - 20, 20);
        if (loc.readUInt32LE(0) !== SIG_LOC64) throw bad('its ZIP64 locator is missing');
        const pos = u64(loc, 8);
        if (!(pos + 56 <= eocdPos - 20)) throw bad('its ZIP64 end record lies outside the file');
        const rec = await read(pos, 56);
        if (rec.readUInt32LE(0) !== SIG_EOCD64) throw bad('its ZIP64 end record is damaged');
        count = u64(rec, 32);
        cdSize = u64(rec, 40);
        cdOffset = u64(rec, 48);
        cdEnd = pos;
      } else if (cdOffset + cdSize < eocdPos) {
        // Data in front of the archive (a self-extractor stub): offsets are relative to where the zip starts.
        base = eocdPos - cdSize - cdOffset;
      }
      if (!(cdOffset + base + cdSize <= cdEnd)) throw bad('its central directory lies outside the file');
      if (count > limits.maxEntries)
        throw bad(`it lists ${count} entries, more than the ${limits.maxEntries} this app reads`);
      if (cdSize > limits.maxEntryBytes) throw bad(`its central directory is larger than ${mib(limits.maxEntryBytes)}`);
      if (count * 46 > cdSize) throw bad(`its central directory is too small for the ${count} entries it lists`);
      const cd = await read(cdOffset + base, cdSize);
      const entries = parseCentral(cd, count, bad);
      assignLimits(entries, cdOffset, bad);
      return new ZipArchive(file, entries, base, limits);
    } finally {
      await fh.close();
    }
  }

  /**
   * Refuses, before anything is expanded, an archive whose `entries` (those the caller means to read) would expand
   * beyond the limits: one entry too large, a ratio of a zip bomb, or too much in total.
   */
  checkLimits(entries: readonly ZipEntry[] = this.entries): void {
    let total = 0;
    for (const e of entries) {
      this.checkEntry(e);
      total += e.size;
    }
    if (total > this.limits.maxTotalBytes)
      throw this.refuse(
        `its entries would expand to ${mib(total)} in total, more than the ${mib(this.limits.maxTotalBytes)} this app expands from one archive`,
      );
  }

  private checkEntry(e: ZipEntry): void {
    if (e.size > this.limits.maxEntryBytes)
      throw this.refuse(
        `${quoted(e.name)} would expand to ${mib(e.size)}, more than the ${mib(this.limits.maxEntryBytes)} allowed for one entry`,
      );
    if (e.size > this.limits.ratioFloorBytes && e.size > e.compressedSize * this.limits.maxRatio)
      throw this.refuse(
        `${quoted(e.name)} would expand from ${e.compressedSize} bytes to ${mib(e.size)} (${Math.round(e.size / Math.max(1, e.compressedSize))}-fold; the limit is ${this.limits.maxRatio}-fold)`,
      );
  }

  private refuse(why: string): AppError {
    return new AppError(
      'invalid_data',
      `${basename(this.file)} is refused: ${why}. This looks like a zip bomb (an archive built to fill memory or disk).`,
    );
  }

  private entryError(e: ZipEntry, why: string): AppError {
    return new AppError('invalid_data', `${quoted(e.name)} in ${basename(this.file)} cannot be read: ${why}.`);
  }

  /** The expanded bytes of one entry as a stream of chunks (see [Note: hostile archives]). */
  async *stream(e: ZipEntry): AsyncGenerator<Buffer> {
    if (e.encrypted) throw this.entryError(e, 'it is encrypted');
    if (e.method !== 0 && e.method !== 8)
      throw this.entryError(e, `it is compressed with method ${e.method} (only stored and deflate are supported)`);
    this.checkEntry(e);
    if (this.expanded + e.size > this.limits.maxTotalBytes)
      throw this.refuse(
        `reading ${quoted(e.name)} would bring what was expanded from it past ${mib(this.limits.maxTotalBytes)}`,
      );
    const start = await this.dataStart(e);
    let n = 0;
    let crc = 0;
    if (e.compressedSize > 0) {
      const src = createReadStream(this.file, { start, end: start + e.compressedSize - 1, highWaterMark: 64 * 1024 });
      let out: Readable = src;
      if (e.method === 8) {
        const inflate = createInflateRaw();
        src.on('error', (err) => inflate.destroy(err));
        out = src.pipe(inflate);
      }
      try {
        for await (const chunk of out as AsyncIterable<Buffer>) {
          n += chunk.length;
          if (n > e.size)
            throw this.entryError(
              e,
              `it expands to more than the ${e.size} bytes its header declares (the archive is corrupt or hostile)`,
            );
          crc = crc32(chunk, crc);
          yield chunk;
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw this.entryError(e, `its compressed data is corrupt (${(err as Error).message})`);
      } finally {
        src.destroy();
        out.destroy();
      }
    }
    this.expanded += n;
    if (n !== e.size)
      throw this.entryError(e, `it holds ${n} bytes, not the ${e.size} its header declares (the archive is corrupt)`);
    if (crc >>> 0 !== e.crc >>> 0) throw this.entryError(e, 'its checksum does not match (the archive is corrupt)');
  }

  /** The expanded bytes of one entry (at most `maxEntryBytes`). */
  async read(e: ZipEntry): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of this.stream(e)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  private async dataStart(e: ZipEntry): Promise<number> {
    const fh = await open(this.file, 'r');
    try {
      const h = Buffer.alloc(30);
      const { bytesRead } = await fh.read(h, 0, 30, this.base + e.localOffset);
      if (bytesRead !== 30 || h.readUInt32LE(0) !== SIG_LOCAL)
        throw this.entryError(e, 'its local header is missing (the archive is corrupt)');
      const start = e.localOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
      if (start + e.compressedSize > e.limit)
        throw this.entryError(e, 'its data runs into the next entry (the archive is corrupt or hostile)');
      return this.base + start;
    } finally {
      await fh.close();
    }
  }
}

function parseCentral(cd: Buffer, count: number, bad: (why: string) => AppError): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw bad(`central directory entry ${i} is damaged`);
    const flags = cd.readUInt16LE(p + 8);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw bad(`central directory entry ${i} is damaged`);
    const raw = cd.subarray(p + 46, p + 46 + nameLen);
    let name: string;
    if (flags & 0x800) name = utf8.decode(raw);
    else {
      try {
        name = utf8Strict.decode(raw);
      } catch {
        name = latin1.decode(raw);
      }
    }
    let size = cd.readUInt32LE(p + 24);
    let compressedSize = cd.readUInt32LE(p + 20);
    let localOffset = cd.readUInt32LE(p + 42);
    // ZIP64 extra field: the 64-bit values of exactly those fields that hold 0xffffffff, in this order.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const next = () => {
          if (q + 8 > x + 4 + len) throw bad(`the ZIP64 sizes of ${quoted(name)} are damaged`);
          const v = u64(cd, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      x += 4 + len;
    }
    if (![size, compressedSize, localOffset].every(Number.isFinite))
      throw bad(`${quoted(name)} declares sizes beyond what a file can hold`);
    const method = cd.readUInt16LE(p + 10);
    if (method === 0 && size !== compressedSize && !(flags & 1))
      throw bad(
        `${quoted(name)} is stored uncompressed but declares ${compressedSize} bytes stored and ${size} expanded`,
      );
    entries.push({
      name,
      isDirectory: name.endsWith('/'),
      method,
      encrypted: (flags & 1) !== 0,
      compressedSize,
      size,
      crc: cd.readUInt32LE(p + 16),
      localOffset,
      limit: 0,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Sets each entry's `limit` and refuses entries whose data would overlap (see [Note: hostile archives]). */
function assignLimits(entries: ZipEntry[], cdOffset: number, bad: (why: string) => AppError): void {
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  for (const [i, e] of byOffset.entries()) {
    e.limit = byOffset[i + 1]?.localOffset ?? cdOffset;
    // The local header is at least 30 bytes plus the name: a lower bound of where the data ends.
    if (e.localOffset + 30 + e.compressedSize > e.limit)
      throw bad(
        `the data of ${quoted(e.name)} overlaps ${byOffset[i + 1] ? quoted(byOffset[i + 1]?.name) : 'the central directory'} (a corrupt archive, or a zip bomb)`,
      );
  }
}
