/**
 * @file Charts of a run's results as SVG: the confusion matrix as a heat map, and per-class accuracy as bars next to
 * the zero-shot prompt's (engine, plain Node; sharp rasterises them, see [Note: curve chart]).
 */
import type { ClassificationReport } from '../../../shared/contract/train';
import { escapeXml } from '../../../shared/markup';
import { svgHead, svgTitle } from './svg';

/** Confusion matrix (rows: true class, columns: predicted), each row shaded by its share of the row's images. */
export function confusionSvg(report: ClassificationReport, title: string): string {
  const names = report.perClass.map((c) => c.name);
  const c = names.length;
  const cell = Math.max(18, Math.min(60, Math.floor(560 / Math.max(1, c))));
  const left = 150;
  const top = 60;
  const W = left + c * cell + 40;
  const H = top + c * cell + 130;
  const parts = [
    svgHead(W, H),
    svgTitle(W / 2, title),
    `<text x="${left + (c * cell) / 2}" y="${top + c * cell + 110}" text-anchor="middle">predicted class</text>`,
    `<text x="14" y="${top - 10}">true class</text>`,
  ];
  report.confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(
      `<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(names[i] ?? String(i))}</text>`,
    );
    row.forEach((n, j) => {
      const share = n / total;
      const shade = Math.round(255 - share * 200);
      const fill = i === j ? `rgb(${shade},${255},${shade})` : `rgb(255,${shade},${shade})`;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ccc"/>`);
      if (cell >= 24) parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle">${n}</text>`);
    });
  });
  names.forEach((n, j) =>
    parts.push(
      `<text transform="translate(${left + j * cell + cell / 2 + 4} ${top + c * cell + 8}) rotate(60)">${escapeXml(n)}</text>`,
    ),
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** Per-class test accuracy of the learned prompt next to the zero-shot prompt's. */
export function perClassSvg(
  learned: ClassificationReport,
  zeroShot: ClassificationReport | null,
  title: string,
): string {
  const names = learned.perClass.map((c) => c.name);
  const band = Math.max(24, Math.min(60, Math.floor(600 / Math.max(1, names.length))));
  const left = 60;
  const top = 50;
  const ph = 300;
  const W = left + names.length * band + 40;
  const H = top + ph + 130;
  const y = (a: number) => top + (1 - a) * ph;
  const parts = [svgHead(Math.max(W, 420), H), svgTitle(Math.max(W, 420) / 2, title)];
  for (let i = 0; i <= 10; i += 2)
    parts.push(
      `<line x1="${left}" y1="${y(i / 10)}" x2="${left + names.length * band}" y2="${y(i / 10)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${y(i / 10) + 4}" text-anchor="end">${i * 10}%</text>`,
    );
  names.forEach((n, k) => {
    const x0 = left + k * band;
    const bw = (band - 8) / 2;
    const zs = zeroShot?.perClass[k]?.accuracy ?? null;
    const lr = learned.perClass[k]?.accuracy ?? null;
    if (zs !== null)
      parts.push(`<rect x="${x0 + 4}" y="${y(zs)}" width="${bw}" height="${top + ph - y(zs)}" fill="#aaaaaa"/>`);
    if (lr !== null)
      parts.push(`<rect x="${x0 + 4 + bw}" y="${y(lr)}" width="${bw}" height="${top + ph - y(lr)}" fill="#2ca02c"/>`);
    parts.push(`<text transform="translate(${x0 + band / 2} ${top + ph + 10}) rotate(60)">${escapeXml(n)}</text>`);
  });
  parts.push(
    `<rect x="${left}" y="${H - 24}" width="14" height="10" fill="#aaaaaa"/><text x="${left + 20}" y="${H - 15}">zero-shot prompt</text>`,
    `<rect x="${left + 160}" y="${H - 24}" width="14" height="10" fill="#2ca02c"/><text x="${left + 180}" y="${H - 15}">learned prompt</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
