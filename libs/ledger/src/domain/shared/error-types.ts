import { NotFoundError, RuleViolationError } from './domain-error';

/** Every domain error slug, its HTTP status and problem title: the registry docs/errors.md mirrors. */
export const DOMAIN_ERROR_TYPES = {
  'charge-not-found': { status: 404, title: 'The charge does not exist' },
  'refund-not-found': { status: 404, title: 'The refund does not exist on this charge' },
  'dispute-not-found': { status: 404, title: 'The dispute does not exist on this charge' },
  'issue-not-found': { status: 404, title: 'The issue does not exist' },
  'charge-already-recorded': { status: 409, title: 'The charge was already recorded with other content' },
  'charge-outcome-mismatch': {
    status: 409,
    title: 'A succeeded charge cannot carry a decline code or failure category',
  },
  'charge-not-succeeded': { status: 409, title: 'Refunds and disputes need a succeeded charge' },
  'refund-exceeds-refundable': { status: 409, title: 'The refund exceeds the refundable amount' },
  'refund-id-conflict': { status: 409, title: 'The refund id was already used with other content' },
  'invalid-refund-transition': { status: 409, title: 'The refund cannot make this transition' },
  'dispute-already-open': { status: 409, title: 'The charge already has an open dispute' },
  'dispute-id-conflict': { status: 409, title: 'The dispute id was already used with other content' },
  'dispute-not-inquiry': { status: 409, title: 'Only an inquiry can be escalated to a chargeback' },
  'dispute-closed': { status: 409, title: 'The dispute is closed' },
  'invalid-dispute-transition': { status: 409, title: 'The dispute cannot make this transition' },
  'issue-already-exists': { status: 409, title: 'An issue with this id exists with other content' },
  'issue-closed': { status: 409, title: 'The issue is closed' },
  'issue-not-open': { status: 409, title: 'The issue is not open' },
  'issue-not-resolved': { status: 409, title: 'The issue has not been resolved' },
  'invalid-csat': { status: 409, title: 'CSAT must be an integer from 1 to 5' },
  'customer-already-churned': { status: 409, title: 'The customer has already churned' },
  'customer-not-churned': { status: 409, title: 'The customer has not churned' },
} as const satisfies Record<string, { status: 404 | 409; title: string }>;

export type DomainErrorType = keyof typeof DOMAIN_ERROR_TYPES;
type TypesWithStatus<Status> = {
  [Type in DomainErrorType]: (typeof DOMAIN_ERROR_TYPES)[Type]['status'] extends Status ? Type : never;
}[DomainErrorType];
export type NotFoundType = TypesWithStatus<404>;
export type RuleViolationType = TypesWithStatus<409>;

// Typed constructors, so a slug that is not in the registry does not compile.
export const notFound = (type: NotFoundType, message: string, details: Record<string, unknown> = {}) =>
  new NotFoundError(type, message, details);

export const ruleViolation = (
  type: RuleViolationType,
  message: string,
  details: Record<string, unknown> = {},
) => new RuleViolationError(type, message, details);
