/**
 * @file The zip reader against honest and hostile archives (issue 15, defect 4): what zip tools write (fflate,
 * Info-ZIP-style ZIP64, a self-extractor stub in front) reads back byte for byte; every limit, overlapping entries,
 * lying sizes, bad checksums, truncation, encryption and unknown methods give a clear `invalid_data` error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../shared/result';
import { ZIP_LIMITS, ZipArchive, type ZipLimits } from '../../electron/engine/formats/zip-archive';
import { tempDir } from '../helpers/engine';
import { craftZip, zeroBomb, type CraftEntry } from './files-craft';

const tmp = tempDir('coop-sec-zip-');
afterAll(() => tmp.cleanup());
let n = 0;
function write(bytes: Uint8Array): string {
  const file = join(tmp.path, `a${n++}.zip`);
  writeFileSync(file, bytes);
  return file;
}
async function errorOf(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe('invalid_data');
  return e as AppError;
}
const bytes = (k: number, seed = 1) => Buffer.from(Array.from({ length: k }, (_, i) => (i * 31 + seed * 7) & 0xff));

describe('honest archives', () => {
  it('reads what fflate writes (stored and deflated, UTF-8 names, folders)', async () => {
    const a = bytes(5000);
    const b = Buffer.from('hello '.repeat(2000));
    const file = write(zipSync({ 'cats/é.png': [a, { level: 0 }], 'dogs/b.txt': b, 'empty/': new Uint8Array(0) }));
    const zip = await ZipArchive.open(file);
    expect(zip.entries.map((e) => [e.name, e.isDirectory, e.size])).toEqual([
      ['cats/é.png', false, 5000],
      ['dogs/b.txt', false, b.length],
      ['empty/', true, 0],
    ]);
    zip.checkLimits();
    expect(await zip.read(zip.entries[0]!)).toEqual(a);
    expect(await zip.read(zip.entries[1]!)).toEqual(b);
  });

  it('reads ZIP64 records and an archive with a self-extractor stub in front', async () => {
    const entries: CraftEntry[] = [
      { name: 'a.png', data: bytes(3000, 2), deflate: true },
      { name: 'b.png', data: bytes(100, 3) },
    ];
    for (const buf of [craftZip(entries, { zip64: true }), Buffer.concat([bytes(777, 9), craftZip(entries)])]) {
      const zip = await ZipArchive.open(write(buf));
      expect(zip.entries.map((e) => e.name)).toEqual(['a.png', 'b.png']);
      expect(await zip.read(zip.entries[0]!)).toEqual(bytes(3000, 2));
      expect(await zip.read(zip.entries[1]!)).toEqual(bytes(100, 3));
    }
  });
});

describe('limits (see [Note: hostile archives])', () => {
  const small: ZipLimits = { ...ZIP_LIMITS, maxEntryBytes: 8 << 20, maxTotalBytes: 12 << 20, ratioFloorBytes: 1 << 20 };

  it('refuses an entry above the size cap, a bomb ratio, and a total above the cap, before expanding anything', async () => {
    const big = await ZipArchive.open(write(craftZip([{ name: 'x.png', ...zeroBomb(9) }])), small);
    expect((await errorOf(Promise.resolve().then(() => big.checkLimits()))).message).toMatch(
      /"x\.png" would expand to 9\.0 MiB, more than the 8\.0 MiB allowed for one entry.*zip bomb/,
    );
    const ratio = await ZipArchive.open(write(craftZip([{ name: 'x.png', ...zeroBomb(2) }])), small);
    expect((await errorOf(Promise.resolve().then(() => ratio.checkLimits()))).message).toMatch(
      /\d+-fold; the limit is 200-fold/,
    );
    const six = { ...zeroBomb(6) };
    const total = await ZipArchive.open(
      write(
        craftZip([
          { name: 'a.png', ...six },
          { name: 'b.png', ...six },
          { name: 'c.png', ...six },
        ]),
      ),
      { ...small, maxRatio: 1e9 },
    );
    expect((await errorOf(Promise.resolve().then(() => total.checkLimits()))).message).toMatch(/18 MiB in total/);
    // Reading one entry at a time is held to the same limits, and to the total across reads.
    expect((await errorOf(big.read(big.entries[0]!))).message).toMatch(/allowed for one entry/);
    await total.read(total.entries[0]!);
    await total.read(total.entries[1]!);
    expect((await errorOf(total.read(total.entries[2]!))).message).toMatch(/past 12 MiB/);
  });

  it('refuses overlapping entries (one compressed kernel shared by many names)', async () => {
    const file = write(
      craftZip([
        { name: 'a.png', data: bytes(1000), deflate: true },
        { name: 'b.png', data: bytes(1000), deflate: true, sameDataAs: 0 },
      ]),
    );
    expect((await errorOf(ZipArchive.open(file))).message).toMatch(/overlaps/);
  });

  it('refuses too many entries and a central directory that lies outside the file', async () => {
    const many = write(craftZip(Array.from({ length: 5 }, (_, i) => ({ name: `${i}.png`, data: bytes(10, i) }))));
    expect((await errorOf(ZipArchive.open(many, { ...ZIP_LIMITS, maxEntries: 4 }))).message).toMatch(/5 entries/);
    const ok = craftZip([{ name: 'a.png', data: bytes(10) }]);
    const broken = Buffer.from(ok);
    broken.writeUInt32LE(0x7fffffff, broken.length - 6);
    expect((await errorOf(ZipArchive.open(write(broken)))).message).toMatch(/central directory/);
  });
});

describe('damaged and hostile entries', () => {
  it('stops an entry at the size its header declares', async () => {
    const zip = await ZipArchive.open(write(craftZip([{ name: 'liar.png', ...zeroBomb(64), declaredSize: 1000 }])));
    expect((await errorOf(zip.read(zip.entries[0]!))).message).toMatch(/more than the 1000 bytes its header declares/);
  });

  it('reports a wrong checksum, a truncated stream, encryption and an unknown method per entry', async () => {
    const data = bytes(4000);
    const zip = await ZipArchive.open(
      write(
        craftZip([
          { name: 'crc.png', data, deflate: true, crc: 1234 },
          { name: 'cut.png', deflated: Buffer.from(zeroBomb(1).deflated.subarray(0, 200)), size: 1 << 20, crc: 0 },
          { name: 'secret.png', data, flags: 0x0801 },
          { name: 'bzip.png', data, method: 12 },
        ]),
      ),
    );
    const [crc, cut, secret, bzip] = zip.entries;
    expect((await errorOf(zip.read(crc!))).message).toMatch(/"crc\.png" in .* checksum does not match/);
    expect((await errorOf(zip.read(cut!))).message).toMatch(/corrupt/);
    expect((await errorOf(zip.read(secret!))).message).toMatch(/encrypted/);
    expect((await errorOf(zip.read(bzip!))).message).toMatch(/method 12/);
  });

  it('says why a file is not a zip at all', async () => {
    expect((await errorOf(ZipArchive.open(write(new Uint8Array(0))))).message).toMatch(/too short/);
    expect((await errorOf(ZipArchive.open(write(bytes(5000))))).message).toMatch(/no end-of-archive record/);
    const whole = craftZip([{ name: 'a.png', data: bytes(3000) }]);
    expect((await errorOf(ZipArchive.open(write(whole.subarray(0, 2000))))).message).toMatch(/end-of-archive/);
  });
});
