// @file Types of boundaries.mjs for the tests (lint time, Node).
import type { Rule } from 'eslint';

/** zone -> the zones it may import (besides itself and shared/). */
export declare const ZONES: Record<string, string[]>;
/** Throws when the table has a cycle. */
export declare function assertAcyclic(zones?: Record<string, string[]>): void;
/** The zone of a repository-relative path, or null. */
export declare function zoneOf(path: string, zones?: Record<string, string[]>): string | null;
/** The ESLint rule `boundaries/zones`. */
export declare const zonesRule: Rule.RuleModule;
/** The ESLint plugin. */
export declare const boundariesPlugin: { rules: { zones: Rule.RuleModule } };
