/**
 * RFC 9457 problem details. Every `type` the API can answer is registered here (and in docs/errors.md);
 * a test checks the two lists agree.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = '/errors/';

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Problems raised by the HTTP edge and the command mechanics (domain rules come from DOMAIN_ERROR_TYPES). */
export const EDGE_PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The body is not valid JSON' },
  unauthorized: { status: 401, title: 'Missing or unknown API key' },
  forbidden: { status: 403, title: 'The API key lacks the role this route needs' },
  'route-not-found': { status: 404, title: 'No such route' },
  'projection-not-found': { status: 404, title: 'No such projection' },
  'stream-not-found': { status: 404, title: 'The stream has no events' },
  'revision-not-found': { status: 404, title: 'The stream has no such revision' },
  'event-not-found': { status: 404, title: "The event is not in the ledger's Merkle tree" },
  'digest-not-found': { status: 404, title: 'No digest has been published for this tree size' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'The request was not received in time' },
  'concurrent-modification': { status: 409, title: 'The stream kept changing; retry the command' },
  'idempotency-key-in-use': { status: 409, title: 'A request with this Idempotency-Key is still in flight' },
  'event-not-in-digest': { status: 409, title: 'The event was appended after this digest' },
  'replay-failed': { status: 409, title: 'A stored event cannot be applied to its aggregate' },
  'projections-elsewhere': { status: 409, title: 'Projections run in another process' },
  'precondition-failed': { status: 412, title: 'If-Match does not match the current revision' },
  'payload-too-large': { status: 413, title: 'The body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send application/json' },
  'card-data-refused': { status: 422, title: 'Card data is never accepted' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used with a different request' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'service-unavailable': { status: 503, title: 'Not ready yet; retry shortly' },
  'internal-error': { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type EdgeProblemType = keyof typeof EDGE_PROBLEM_TYPES;

export function problemTypeUri(slug: string): string {
  return `${PROBLEM_TYPE_BASE}${slug}`;
}

export function edgeProblem(
  slug: EdgeProblemType,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem {
  const { status, title } = EDGE_PROBLEM_TYPES[slug];
  return { type: problemTypeUri(slug), title, status, detail, ...extra };
}

/** An error that already knows its problem document; thrown anywhere in the HTTP and application layers. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }

  static of(slug: EdgeProblemType, detail: string, extra: Record<string, unknown> = {}): ProblemError {
    return new ProblemError(edgeProblem(slug, detail, extra));
  }
}
