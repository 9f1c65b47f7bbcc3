/**
 * @file Counted nouns in messages and labels: "1 image", "2 images" (pure TypeScript, every process).
 */

/** `n` and the noun, singular for exactly one; the plural defaults to the noun + "s" ("class" -> pass "classes"). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** `text` with its first letter in upper case, to start a sentence with a phrase written for the middle of one. */
export function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
