// Rasterises build/icon.svg into the PNG icons electron-builder uses (build/icon.png, build/icons/<size>x<size>.png).
// Run after editing the SVG: node scripts/make-icons.mjs
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const build = join(dirname(fileURLToPath(import.meta.url)), '..', 'build');
mkdirSync(join(build, 'icons'), { recursive: true });
const svg = join(build, 'icon.svg');
await sharp(svg, { density: 300 }).resize(1024, 1024).png().toFile(join(build, 'icon.png'));
for (const size of [16, 32, 48, 64, 128, 256, 512]) {
  await sharp(svg, { density: 300 })
    .resize(size, size)
    .png()
    .toFile(join(build, 'icons', `${size}x${size}.png`));
}
