/**
 * @file Tests of the thumbnail URL builders and the one thumbnail path parser (pure TypeScript, Vitest).
 */
import { describe, expect, it } from 'vitest';
import { desktopThumbParts, parseThumbPath, thumbnailUrl, thumbRelPath } from './files';

const HASH = '3f'.repeat(32);

describe('thumbnail paths', () => {
  it('files a thumbnail under the first two hex digits of its hash, in both transports', () => {
    expect(thumbRelPath(HASH)).toBe(`3f/${HASH}.webp`);
    expect(thumbnailUrl(HASH, 'web')).toBe(`/thumbs/3f/${HASH}.webp`);
    expect(thumbnailUrl(HASH, 'electron', 'png')).toBe(`coop://thumbs/3f/${HASH}.png`);
  });

  it('parses what the builders make and nothing else', () => {
    expect(parseThumbPath(thumbRelPath(HASH))).toEqual({ parts: ['3f', `${HASH}.webp`], ext: 'webp' });
    for (const bad of [
      `${HASH}.webp`,
      `aa/${HASH}.webp`,
      `3f/${HASH}.gif`,
      `3f/../${HASH}.webp`,
      `3f/${HASH.toUpperCase()}.webp`,
      `3f/${HASH}.webp/x`,
      '',
    ]) {
      expect(parseThumbPath(bad), bad).toBeNull();
    }
  });

  it('maps a coop: URL to its path parts under thumbs/', () => {
    expect(desktopThumbParts(thumbnailUrl(HASH, 'electron'))).toEqual(['3f', `${HASH}.webp`]);
    expect(desktopThumbParts(`coop://models/3f/${HASH}.webp`)).toBeNull();
    expect(desktopThumbParts(`https://thumbs/3f/${HASH}.webp`)).toBeNull();
    expect(desktopThumbParts(`coop://thumbs/3f/%2e%2e/${HASH}.webp`)).toBeNull();
    expect(desktopThumbParts('not a url')).toBeNull();
  });
});
