/**
 * Domain errors carry a stable `type` (a short slug) that the HTTP layer turns into a problem+json
 * `type` URI. Every slug is listed in docs/errors.md.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: 'not-found' | 'rule-violation';
  constructor(
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The charge, issue, refund or dispute the command acts on does not exist (404). */
export class NotFoundError extends DomainError {
  readonly kind = 'not-found' as const;
  override readonly name = 'NotFoundError';
}

/** A domain rule broken by the current state (409). */
export class RuleViolationError extends DomainError {
  readonly kind = 'rule-violation' as const;
  override readonly name = 'RuleViolationError';
}
