import { describe, expect, it } from 'vitest';
import { count, sentence } from './words';

describe('count', () => {
  it('says one thing in the singular and every other number in the plural', () => {
    expect(count(1, 'image')).toBe('1 image');
    expect(count(0, 'image')).toBe('0 images');
    expect(count(2, 'class', 'classes')).toBe('2 classes');
    expect(count(1, 'class', 'classes')).toBe('1 class');
  });

  it('starts a sentence with a capital', () => {
    expect(sentence('the whole set')).toBe('The whole set');
    expect(sentence('')).toBe('');
  });
});
