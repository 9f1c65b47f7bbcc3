/**
 * @file Field-level validation in plain words: the contract's zod schemas decide what is valid, and this file says it
 * as a sentence about the field the user sees, shown next to that field (renderer).
 *
 * [Note: plain field errors] A form checks its values with the same zod schema the engine will apply (one rule, one
 * place) before it calls the engine, and each issue becomes one sentence that names the field by its label ("Context
 * length must be at least 1."), never by its property ("nCtx: Too small: expected number to be >=1"). The form shows
 * it under the field (`aria-describedby`, `aria-invalid`) and sends nothing until every field is fine.
 */
import type { z } from 'zod';

/** One zod issue, as far as the sentences below need it. */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  expected?: string;
  format?: string;
  values?: unknown[];
}

/** The sentence for one issue of the field labelled `label`. */
export function plainIssue(label: string, issue: Issue): string {
  const { code } = issue;
  if (code === 'too_small' || code === 'too_big') {
    const small = code === 'too_small';
    const bound = Number(small ? issue.minimum : issue.maximum);
    if (issue.origin === 'string') {
      if (small && bound <= 1) return `${label} cannot be empty.`;
      return `${label} must be ${small ? 'at least' : 'at most'} ${bound} characters long.`;
    }
    if (issue.origin === 'array' || issue.origin === 'set') {
      return `${label} needs ${small ? 'at least' : 'at most'} ${bound} ${bound === 1 ? 'entry' : 'entries'}.`;
    }
    const exclusive = issue.inclusive === false;
    return `${label} must be ${small ? (exclusive ? 'more than' : 'at least') : exclusive ? 'less than' : 'at most'} ${bound}.`;
  }
  if (code === 'invalid_type') {
    if (issue.expected === 'int') return `${label} must be a whole number.`;
    if (issue.expected === 'number') return `${label} needs a number.`;
    return `${label} is missing.`;
  }
  if (code === 'not_multiple_of') return `${label} is not a multiple it can take.`;
  if (code === 'invalid_format') {
    if (issue.format === 'url') return `${label} must be a web address such as https://huggingface.co.`;
    return `${label} is not written the way it needs to be.`;
  }
  if (code === 'invalid_value' && issue.values) return `${label} must be one of ${issue.values.join(', ')}.`;
  // Refinements carry their own words ("must be an http(s) URL").
  return `${label} ${issue.message.replace(/^[A-Z]/, (c) => c.toLowerCase())}${/[.!?]$/.test(issue.message) ? '' : '.'}`;
}

/**
 * The first issue of each field of `value` under `schema`, as sentences keyed by field; `labels` names the fields the
 * user sees (an issue of a field without a label is keyed by its property under `''`, the form's own line).
 */
export function fieldErrors(schema: z.ZodType, value: unknown, labels: Record<string, string>): Record<string, string> {
  const r = schema.safeParse(value);
  if (r.success) return {};
  const out: Record<string, string> = {};
  for (const issue of r.error.issues as unknown as Issue[]) {
    const key = String(issue.path[0] ?? '');
    const label = labels[key];
    const field = label ? key : '';
    if (out[field] !== undefined) continue;
    out[field] = plainIssue(label ?? 'This value', issue);
  }
  return out;
}

/** The first sentence about a single value under `schema`, or null when it is valid. */
export function valueError(schema: z.ZodType, value: unknown, label: string): string | null {
  const r = schema.safeParse(value);
  if (r.success) return null;
  return plainIssue(label, r.error.issues[0] as unknown as Issue);
}
