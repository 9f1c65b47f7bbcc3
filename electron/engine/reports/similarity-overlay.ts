/**
 * @file The similarity map drawn over the image as PNG (sharp), one map alone or the hand-written and learned maps
 * side by side with their captions (engine worker, plain Node).
 *
 * [Note: similarity overlay] The map (one cosine per patch) is upsampled bilinearly from the patch grid to the
 * overlay's size, between patch centres, and coloured from blue (the scale's low end) through yellow to red (its high
 * end; shared/heat-colour.ts, the scale the studio's legend shows too); the image is the model's input crop resized to
 * the same size (cubic). The colour is blended at 55 % over the image. The scale is given by the caller, so the
 * hand-written and the learned map of one class share it and their colours compare.
 */
import sharp from 'sharp';
import { heatColour } from '../../../shared/heat-colour';
import { escapeXml } from '../../../shared/markup';

/** An RGB image (8-bit, interleaved). */
export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Bilinear value of a rows x cols grid at pixel (x, y) of a size x size square (patch centres at cell centres). */
function sample(values: readonly number[], rows: number, cols: number, size: number, x: number, y: number): number {
  const gx = Math.min(cols - 1, Math.max(0, ((x + 0.5) / size) * cols - 0.5));
  const gy = Math.min(rows - 1, Math.max(0, ((y + 0.5) / size) * rows - 0.5));
  const x0 = Math.floor(gx);
  const y0 = Math.floor(gy);
  const x1 = Math.min(cols - 1, x0 + 1);
  const y1 = Math.min(rows - 1, y0 + 1);
  const fx = gx - x0;
  const fy = gy - y0;
  const v = (r: number, c: number) => values[r * cols + c] ?? 0;
  return (v(y0, x0) * (1 - fx) + v(y0, x1) * fx) * (1 - fy) + (v(y1, x0) * (1 - fx) + v(y1, x1) * fx) * fy;
}

/** One overlay as PNG (see [Note: similarity overlay]); `scale` maps cosines to the colour range. */
export async function overlayPng(
  image: Rgb,
  map: { values: readonly number[]; rows: number; cols: number },
  scale: { min: number; max: number },
  size: number,
): Promise<Buffer> {
  const base = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size, size, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  const span = scale.max - scale.min || 1;
  const out = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const t = (sample(map.values, map.rows, map.cols, size, x, y) - scale.min) / span;
      const c = heatColour(t);
      const i = (y * size + x) * 3;
      for (let k = 0; k < 3; k++) out[i + k] = Math.round(0.45 * (base[i + k] ?? 0) + 0.55 * (c[k] ?? 0));
    }
  return sharp(out, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/** Overlays side by side with a caption above each and the scale below (PNG). */
export async function sideBySidePng(
  panels: { caption: string; png: Buffer }[],
  size: number,
  scale: { min: number; max: number },
  note: string,
): Promise<Buffer> {
  const gap = 12;
  const top = 36;
  const bottom = 58;
  const width = panels.length * size + (panels.length + 1) * gap;
  const height = top + size + bottom;
  const bar = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = heatColour(i / 10);
    return `<rect x="${gap + i * 16}" y="${top + size + 10}" width="16" height="10" fill="rgb(${r},${g},${b})"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">
<rect width="${width}" height="${height}" fill="#ffffff"/>
${panels.map((p, i) => `<text x="${gap + i * (size + gap) + size / 2}" y="${top - 12}" text-anchor="middle">${escapeXml(p.caption)}</text>`).join('\n')}
${bar}
<text x="${gap + 11 * 16 + 8}" y="${top + size + 19}">cosine ${scale.min.toFixed(3)} to ${scale.max.toFixed(3)}</text>
<text x="${gap}" y="${top + size + 42}" font-size="10" fill="#555">${escapeXml(note)}</text>
</svg>`;
  return sharp(Buffer.from(svg))
    .composite(panels.map((p, i) => ({ input: p.png, left: gap + i * (size + gap), top })))
    .png()
    .toBuffer();
}
