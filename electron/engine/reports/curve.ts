/**
 * @file The learning curve as an SVG chart, rasterised to PNG with sharp (engine, plain Node).
 *
 * [Note: curve chart] The chart is written as SVG by hand (no DOM, no chart library in the engine) and rasterised
 * by sharp's librsvg, so the CLI and the demo write a PNG without a window. Accuracies use the left axis (0 to 100 %),
 * the training loss the right axis (0 to its maximum); epoch 0 is the hand-written prompt, drawn as a dotted line
 * across the chart so the gain of CoOp over zero-shot is visible at a glance.
 */
import sharp from 'sharp';
import type { EpochPoint } from '../train/trainer';
import { svgHead, svgTitle } from './svg';

/** Options of {@link curveSvg}. */
export interface CurveOptions {
  title: string;
  width?: number;
  height?: number;
}

/** The chart as an SVG document. */
export function curveSvg(curve: readonly EpochPoint[], opts: CurveOptions): string {
  const W = opts.width ?? 800;
  const H = opts.height ?? 480;
  const m = { l: 60, r: 60, t: 40, b: 80 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const maxEpoch = Math.max(1, ...curve.map((p) => p.epoch));
  const maxLoss = Math.max(1e-6, ...curve.map((p) => p.trainLoss).filter(Number.isFinite));
  const x = (e: number) => m.l + (e / maxEpoch) * pw;
  const yAcc = (a: number) => m.t + (1 - a) * ph;
  const yLoss = (l: number) => m.t + (1 - l / maxLoss) * ph;
  const line = (pick: (p: EpochPoint) => number | null, y: (v: number) => number) =>
    curve
      .filter((p) => pick(p) !== null && Number.isFinite(pick(p)))
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.epoch).toFixed(1)},${y(pick(p) as number).toFixed(1)}`)
      .join(' ');
  const parts: string[] = [svgHead(W, H), svgTitle(W / 2, opts.title)];
  for (let i = 0; i <= 10; i += 2) {
    const y = yAcc(i / 10);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y + 4}" text-anchor="end">${i * 10}%</text>`);
    parts.push(`<text x="${m.l + pw + 8}" y="${y + 4}">${((maxLoss * i) / 10).toFixed(2)}</text>`);
  }
  const tickStep = Math.max(1, Math.ceil(maxEpoch / 10));
  for (let e = 0; e <= maxEpoch; e += tickStep)
    parts.push(`<text x="${x(e)}" y="${m.t + ph + 18}" text-anchor="middle">${e}</text>`);
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${m.l + pw / 2}" y="${m.t + ph + 36}" text-anchor="middle">epoch (0 = hand-written prompt)</text>`,
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">accuracy</text>`,
    `<text transform="translate(${W - 12} ${m.t + ph / 2}) rotate(90)" text-anchor="middle">training loss</text>`,
  );
  const zs = curve[0]?.testAccuracy ?? curve[0]?.valAccuracy ?? null;
  if (zs !== null)
    parts.push(
      `<line x1="${m.l}" y1="${yAcc(zs)}" x2="${m.l + pw}" y2="${yAcc(zs)}" stroke="#999" stroke-dasharray="2 4"/>`,
    );
  const series: { name: string; color: string; d: string; dash?: string }[] = [
    { name: 'train accuracy', color: '#1f77b4', d: line((p) => p.trainAccuracy, yAcc) },
    { name: 'validation accuracy', color: '#ff7f0e', d: line((p) => p.valAccuracy, yAcc) },
    { name: 'test accuracy', color: '#2ca02c', d: line((p) => p.testAccuracy, yAcc) },
    { name: 'training loss', color: '#d62728', d: line((p) => p.trainLoss, yLoss), dash: '6 4' },
  ];
  series.forEach((s, i) => {
    if (s.d) {
      parts.push(
        `<path d="${s.d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      );
    }
    const lx = m.l + i * (pw / 4);
    const ly = H - 18;
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${lx + 30}" y="${ly}">${s.name}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Rasterises the chart to PNG bytes. */
export async function curvePng(curve: readonly EpochPoint[], opts: CurveOptions): Promise<Buffer> {
  return sharp(Buffer.from(curveSvg(curve, opts)))
    .png()
    .toBuffer();
}
