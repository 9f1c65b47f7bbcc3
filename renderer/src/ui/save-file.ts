/**
 * @file Handing bytes the page made to the user as a file: a browser download, and a canvas or an SVG as PNG
 * (renderer).
 *
 * [Note: page-made downloads] Files the page builds from data it already holds (an experiment's report, a similarity
 * map sheet) are saved with an `<a download>` over a blob URL: in web mode the browser saves them as any download, in
 * the desktop app Chromium's download asks where to save. Nothing goes back to the engine and no server route is
 * needed. Controllers take a `FileSaver` so tests record the files instead.
 */

/** Where the page's files go: the browser's download (tests record them instead). */
export interface FileSaver {
  save(name: string, blob: Blob): void;
  /** An SVG document rasterised to PNG. */
  png(svg: string): Promise<Blob>;
}

/** Saves a blob as a download named `name` (see [Note: page-made downloads]). */
export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The download holds its own reference to the bytes once it has started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A canvas as PNG bytes. */
export function canvasPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('The PNG could not be drawn.'))), 'image/png'),
  );
}

/** A 2D context of a new canvas of the given size; throws in a page without one. */
export function newCanvas(width: number, height: number): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('This page cannot draw a PNG (no 2D canvas).');
  return { canvas, ctx };
}

/** Loads an image from a URL (a blob or data URL). */
export async function loadImage(src: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = src;
  await img.decode();
  return img;
}

/** An SVG document drawn on a canvas of its own size, as PNG. */
export async function svgToPng(svg: string): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = await loadImage(url);
    const { canvas, ctx } = newCanvas(img.naturalWidth, img.naturalHeight);
    ctx.drawImage(img, 0, 0);
    return await canvasPng(canvas);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The browser's saver. */
export const browserSaver: FileSaver = { save: downloadBlob, png: svgToPng };
