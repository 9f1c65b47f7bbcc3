/**
 * @file Tests of the CSV cell writer: RFC 4180 quoting and OWASP's formula-injection rule (see [Note: CSV cells]).
 */
import { describe, expect, it } from 'vitest';
import { csvCell, csvTable } from './csv';

describe('csvCell', () => {
  it('prefixes text that a spreadsheet would read as a formula, and only text', () => {
    for (const s of ['=1+1', '+1', '-1', '@A1', '\tx', '\rx']) expect(csvCell(s).replace(/^"|"$/g, '')).toMatch(/^'/);
    expect(csvCell(-0.5)).toBe('-0.5');
    expect(csvCell('a-b=c')).toBe('a-b=c');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });

  it('quotes commas, quotes and line breaks', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(
      csvTable([
        ['a', 1],
        ['=b', null],
      ]),
    ).toBe("a,1\n'=b,\n");
  });
});
