/**
 * @file What is wrong with an image file that did not decode, in plain words (engine, plain Node).
 *
 * [Note: image problems] libvips' errors name its loaders ("vipspng: libpng read error", "gifload_buffer: ...")
 * and an interlaced PNG cut short even gives an empty message, which sharp turns into "Unknown error". The file
 * itself tells more: each format has a structure whose end can be checked without decoding (PNG's chunk chain
 * up to IEND, JPEG's end-of-image marker, GIF's trailer, the RIFF size of WebP, the box sizes of AVIF/HEIF). When
 * that structure stops early, the file is truncated (a cut-off copy or download); when it is complete but does not
 * decode, its data is damaged. The decoder's own words are kept in brackets only when they add something.
 */

/** The image formats recognised by their first bytes. */
type Sniffed = 'PNG' | 'JPEG' | 'GIF' | 'WebP' | 'TIFF' | 'BMP' | 'AVIF/HEIF' | null;

function sniff(b: Uint8Array): Sniffed {
  const at = (i: number, ...v: number[]) => v.every((x, k) => b[i + k] === x);
  const ascii = (i: number, s: string) => at(i, ...[...s].map((c) => c.charCodeAt(0)));
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'PNG';
  if (at(0, 0xff, 0xd8, 0xff)) return 'JPEG';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'GIF';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'TIFF';
  if (ascii(0, 'BM')) return 'BMP';
  if (ascii(4, 'ftyp')) return 'AVIF/HEIF';
  return null;
}

const u32be = (b: Uint8Array, i: number) =>
  (b[i] ?? 0) * 2 ** 24 + ((b[i + 1] ?? 0) << 16) + ((b[i + 2] ?? 0) << 8) + (b[i + 3] ?? 0);
const u32le = (b: Uint8Array, i: number) =>
  (b[i] ?? 0) + ((b[i + 1] ?? 0) << 8) + ((b[i + 2] ?? 0) << 16) + (b[i + 3] ?? 0) * 2 ** 24;

/** Whether the file's structure stops before its end marker (see [Note: image problems]); null when unknown. */
function truncated(b: Uint8Array, format: Sniffed): boolean | null {
  switch (format) {
    case 'PNG': {
      for (let p = 8; ;) {
        if (p + 12 > b.length) return true;
        const len = u32be(b, p);
        const type = String.fromCharCode(b[p + 4] ?? 0, b[p + 5] ?? 0, b[p + 6] ?? 0, b[p + 7] ?? 0);
        p += 12 + len;
        if (p > b.length) return true;
        if (type === 'IEND') return false;
      }
    }
    case 'JPEG': {
      for (let i = b.length - 2; i >= 2; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return false;
      return true;
    }
    case 'TIFF': {
      // The first image directory's offset: sharp and most writers put it last, so a cut file loses it.
      const le = b[0] === 0x49;
      const ifd = le ? u32le(b, 4) : u32be(b, 4);
      return ifd + 2 > b.length ? true : null;
    }
    case 'GIF':
      return b[b.length - 1] !== 0x3b;
    case 'WebP':
      return u32le(b, 4) + 8 > b.length;
    case 'AVIF/HEIF': {
      let p = 0;
      while (p + 8 <= b.length) {
        const size = u32be(b, p);
        if (size === 0) return false;
        if (size < 8) return null;
        p += size;
      }
      return p > b.length;
    }
    default:
      return null;
  }
}

/** The decoder's message without loader names and repeats, or '' when it said nothing useful. */
function decoderWords(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e ?? '');
  const lines = [...new Set(msg.split('\n').map((l) => l.trim()))].filter(Boolean);
  const first = (lines[0] ?? '')
    .replace(/^Input (buffer|file) has corrupt header:\s*/i, '')
    .replace(/^(vips\w*|VipsJpeg|gifload\w*|tiff2vips|heif|webp|source):\s*/i, '')
    .trim();
  return /^unknown error$|^$|libpng read error|unsupported image format/i.test(first) ? '' : first;
}

/**
 * One sentence (lower case, no full stop) saying what is wrong with an image that did not decode, for the import
 * report and embedding errors (see [Note: image problems]).
 */
export function imageProblem(bytes: Uint8Array, e: unknown): string {
  if (bytes.length === 0) return 'the file is empty';
  const format = sniff(bytes);
  const words = decoderWords(e);
  if (format === null) {
    if (/unsupported image format/i.test(String(e instanceof Error ? e.message : e)))
      return 'not an image in a supported format (JPEG, PNG, WebP, GIF, TIFF, AVIF)';
    return `not an image this app can read${words ? ` (${words})` : ''}`;
  }
  if (truncated(bytes, format) === true)
    return `the ${format} file is truncated: it stops after ${bytes.length} bytes, before the end of the image (a copy or download that was cut off)`;
  if (/premature end|unexpected end|end of file|truncated/i.test(words))
    return `the ${format} file is truncated: its image data ends early (${words})`;
  return `the ${format} image data is damaged and cannot be decoded${words ? ` (${words})` : ''}`;
}
