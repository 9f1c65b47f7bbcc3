/**
 * @file The side-by-side view of "Where the model looks" as one PNG: both prompts' overlays of a class with their
 * captions, the shared colour scale and what the map is (renderer).
 */
import { heatColour } from '../../../shared/heat-colour';
import { canvasPng, loadImage, newCanvas } from '../ui/save-file';

/** What the sheet shows. */
export interface MapSheet {
  image: string;
  className: string;
  panels: { title: string; text: string; probability: number; src: string }[];
  scale: { min: number; max: number };
}

/** The one-line statement every view of the map carries (see [Note: what the similarity map is]). */
export const MAP_ONE_LINE =
  'Colour: cosine between each image patch and the class’s prompt (red high, blue low). Not a gradient saliency: the prediction itself uses only the image’s class token.';

/** Draws the sheet and returns it as PNG. */
export async function mapSheetPng(sheet: MapSheet): Promise<Blob> {
  const images = await Promise.all(sheet.panels.map((p) => loadImage(p.src)));
  const size = Math.max(160, ...images.map((i) => i.naturalWidth));
  const gap = 16;
  const top = 64;
  const width = Math.max(560, sheet.panels.length * size + (sheet.panels.length + 1) * gap);
  const height = top + size + 96;
  const { canvas, ctx } = newCanvas(width, height);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#1b1f24';
  ctx.font = 'bold 15px system-ui, sans-serif';
  ctx.fillText(`Where the model looks: ${sheet.image}, class “${sheet.className}”`, gap, 24, width - 2 * gap);
  sheet.panels.forEach((p, i) => {
    const x = gap + i * (size + gap);
    ctx.fillStyle = '#1b1f24';
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.fillText(`${p.title}: ${(p.probability * 100).toFixed(1)}%`, x, top - 22, size);
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillStyle = '#4a5563';
    ctx.fillText(`“${p.text}”`, x, top - 6, size);
    const img = images[i];
    if (img) ctx.drawImage(img, x, top, size, size);
  });
  const barY = top + size + 14;
  for (let k = 0; k < 100; k++) {
    const [r, g, b] = heatColour(k / 99);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(gap + k * 2, barY, 2, 12);
  }
  ctx.fillStyle = '#1b1f24';
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillText(
    `cosine ${sheet.scale.min.toFixed(3)} (blue) to ${sheet.scale.max.toFixed(3)} (red), one scale for both prompts`,
    gap + 210,
    barY + 10,
  );
  ctx.fillStyle = '#4a5563';
  ctx.font = '11px system-ui, sans-serif';
  wrap(ctx, MAP_ONE_LINE, gap, barY + 34, width - 2 * gap, 15);
  return canvasPng(canvas);
}

/** Draws `text` in lines no wider than `maxWidth`. */
function wrap(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, maxWidth: number, lh: number): void {
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (ctx.measureText(next).width > maxWidth && line) {
      ctx.fillText(line, x, y);
      y += lh;
      line = word;
    } else line = next;
  }
  if (line) ctx.fillText(line, x, y);
}
