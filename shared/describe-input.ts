/**
 * @file Pieces of error messages about users' files: zod issues as one readable sentence, and untrusted values
 * quoted at a bounded length (pure TypeScript, any runtime).
 */
import type { z } from 'zod';

/** Where an issue is, as `root.key[3].field`. */
export function issuePath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, p) => (typeof p === 'number' ? `${s}[${p}]` : `${s}${s ? '.' : ''}${String(p)}`),
    root,
  );
}

/** The first `max` issues, each as "where: what" ("where is missing" for an absent field). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string, max = 3): string {
  const parts = issues.slice(0, max).map((i) => {
    const where = issuePath(root, i.path);
    if (i.code === 'invalid_type' && /received undefined$/.test(i.message)) return `${where} is missing`;
    return `${where}: ${i.message.replace(/^Invalid input: /, '')}`;
  });
  const more = issues.length > max ? ` (and ${issues.length - max} more problems)` : '';
  return `${parts.join('; ')}${more}`;
}

/** An untrusted value for a message: JSON-quoted, cut to `max` characters (a hostile name can be 64 kB long). */
export function quoted(value: unknown, max = 120): string {
  if (value === undefined) return '(none)';
  const s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
