/**
 * @file Python's `html.unescape`, as OpenAI's CLIP tokenizer applies it before tokenizing (engine, plain Node).
 *
 * [Note: html unescape] OpenAI's `basic_clean` runs `html.unescape(html.unescape(text))`, so
 * "&amp;amp;" becomes "&". Hugging Face's fast tokenizer does not; the fixture cases follow OpenAI.
 * Numeric references follow Python exactly (its table of Windows-1252 replacements, U+FFFD for
 * surrogates and out-of-range code points, nothing for the invalid code points). Named references
 * cover the entities that occur in captions and prompts; an unknown name is left as written, which
 * is also what Python does for a name outside HTML5's table.
 */

/** Named entities (with their value); the ones marked legacy are also accepted without `;` as Python does. */
const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  trade: '\u2122',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  laquo: '\u00ab',
  raquo: '\u00bb',
  deg: '\u00b0',
  middot: '\u00b7',
  times: '\u00d7',
  divide: '\u00f7',
  euro: '\u20ac',
  pound: '\u00a3',
  yen: '\u00a5',
  cent: '\u00a2',
  sect: '\u00a7',
  para: '\u00b6',
  plusmn: '\u00b1',
  frac12: '\u00bd',
  frac14: '\u00bc',
  frac34: '\u00be',
  eacute: '\u00e9',
  egrave: '\u00e8',
  aacute: '\u00e1',
  agrave: '\u00e0',
  ccedil: '\u00e7',
  uuml: '\u00fc',
  ouml: '\u00f6',
  auml: '\u00e4',
  szlig: '\u00df',
  ntilde: '\u00f1',
  bull: '\u2022',
};

/** Entities HTML5 also recognises without the trailing semicolon (a subset of Python's table). */
const LEGACY = new Set([
  'amp', 'lt', 'gt', 'quot', 'nbsp', 'copy', 'reg', 'laquo', 'raquo', 'deg', 'middot', 'times', 'divide',
  'pound', 'yen', 'cent', 'sect', 'para', 'plusmn', 'frac12', 'frac14', 'frac34', 'eacute', 'egrave', 'aacute',
  'agrave', 'ccedil', 'uuml', 'ouml', 'auml', 'szlig', 'ntilde',
]); // prettier-ignore

/** Python's `_invalid_charrefs`: code points replaced by another character (Windows-1252 and a few more). */
const INVALID_CHARREFS: Record<number, string> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e',
  0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039',
  0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f', 0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019',
  0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122',
  0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
}; // prettier-ignore

/** Python's `_invalid_codepoints`: references to these produce nothing. */
function isInvalidCodepoint(cp: number): boolean {
  if ((cp >= 0x1 && cp <= 0x8) || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f)) return true;
  if (cp >= 0xfdd0 && cp <= 0xfdef) return true;
  if (cp === 0xb) return true;
  return (cp & 0xfffe) === 0xfffe && cp <= 0x10ffff;
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

function replaceCharref(s: string): string {
  if (s[0] === '#') {
    const num =
      s[1] === 'x' || s[1] === 'X'
        ? parseInt(s.slice(2).replace(';', ''), 16)
        : parseInt(s.slice(1).replace(';', ''), 10);
    if (num in INVALID_CHARREFS) return INVALID_CHARREFS[num] ?? '';
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (isInvalidCodepoint(num)) return '';
    return String.fromCodePoint(num);
  }
  if (s.endsWith(';')) {
    const v = NAMED[s.slice(0, -1)];
    if (v !== undefined) return v;
  }
  if (LEGACY.has(s)) return NAMED[s] ?? '';
  // Python: find the longest prefix that is an entity valid without ';'.
  for (let x = s.length - 1; x > 1; x--) {
    const name = s.slice(0, x);
    if (LEGACY.has(name)) return (NAMED[name] ?? '') + s.slice(x);
  }
  return `&${s}`;
}

/** `html.unescape` of Python for numeric references and the common named ones (see [Note: html unescape]). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_m, s: string) => replaceCharref(s));
}
