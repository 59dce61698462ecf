import { containsCardNumber, REDACTED_SEGMENT } from '../application/card-data';
import type { FieldError } from './problem';

/** Nesting no command needs: deeper bodies are refused before anything walks them recursively. */
export const MAX_BODY_DEPTH = 32;

/**
 * Keys that class-transformer and class-validator never see as fields of a plain object (they name what
 * every object inherits), so the whitelist cannot report them: refused here as unknown fields instead.
 */
const INHERITED_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** ES2024's String methods (Node 20 has them; the project's lib is ES2023). */
type Es2024String = string & { isWellFormed(): boolean; toWellFormed(): string };
const wellFormed = (text: string): boolean => (text as Es2024String).isWellFormed();

export interface BodyShapeErrors {
  /** Nesting deeper than MAX_BODY_DEPTH: nothing may walk the body recursively. */
  tooDeep: FieldError | null;
  /** The first string or key with a lone surrogate, or key named like an inherited property. */
  content: FieldError | null;
}

/**
 * What a parsed JSON body holds that no DTO can validate: nesting deeper than MAX_BODY_DEPTH, a string or
 * key with a lone UTF-16 surrogate (not I-JSON, so it could be neither hashed nor stored as RFC 8785
 * canonical bytes), or a key named like an inherited property. Walked without recursion, so a body nested
 * thousands deep costs a loop, not the stack; the walk stops at the first level too deep. The card-data
 * guard runs between the two answers: after `tooDeep` (its walk is recursive), before `content` (a card
 * number is a 422 wherever it sits).
 */
export function findBodyShapeErrors(body: unknown): BodyShapeErrors {
  let content: FieldError | null = null;
  const pending: Array<{ value: unknown; path: string; depth: number }> = [
    { value: body, path: '', depth: 0 },
  ];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    const field = path === '' ? '(body)' : path;
    if (typeof value === 'string') {
      if (!content && !wellFormed(value)) content = { field, message: LONE_SURROGATE };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      return { tooDeep: { field, message: `nested deeper than ${MAX_BODY_DEPTH} levels` }, content };
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push({ value: item, path: `${path}.${i}`, depth: depth + 1 }));
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path === '' ? safeName(key) : `${path}.${safeName(key)}`;
      if (!content && !wellFormed(key)) content = { field: childPath, message: LONE_SURROGATE };
      if (!content && INHERITED_NAMES.has(key)) content = { field: childPath, message: 'unknown field' };
      pending.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return { tooDeep: null, content };
}

const LONE_SURROGATE = 'must be valid Unicode (a lone surrogate)';

/**
 * A key as it may appear in an answer: never a card number (this check runs before the card guard), and
 * never a lone surrogate, which would make the answer itself ill-formed.
 */
function safeName(key: string): string {
  if (containsCardNumber(key)) return REDACTED_SEGMENT;
  return wellFormed(key) ? key : (key as Es2024String).toWellFormed();
}
