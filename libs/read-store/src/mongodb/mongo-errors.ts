/**
 * What a MongoDB error means to the adapters, from its server code and its labels (never its message,
 * which servers word differently across versions). Pure: works on any object with `code` and
 * `hasErrorLabel`, as the driver's MongoError has; the specs build real MongoServerError instances.
 */

/** Server error codes the adapters act on (mongo/base/error_codes.yml). */
export const MongoCode = {
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  NamespaceExists: 48,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  WriteConflict: 112,
  NoSuchTransaction: 251,
  DuplicateKey: 11000,
} as const;

export type MongoErrorKind =
  /** A unique index refused the write: an idempotency scope or a document already there. */
  | 'duplicate-key'
  /** The transaction may succeed if run again (write conflict, failover): withTransaction retries it. */
  | 'transient'
  /** The commit may or may not have been applied: withTransaction retries the commit alone. */
  | 'unknown-commit-result'
  /** Transactions are refused: the server is a standalone, not a replica set member. */
  | 'not-a-replica-set'
  /** createCollection of a collection that exists: ensureCollections is idempotent. */
  | 'namespace-exists'
  /** drop of a collection that does not exist. */
  | 'namespace-not-found'
  | 'other';

interface ErrorLike {
  code?: unknown;
  hasErrorLabel?: unknown;
}

function hasLabel(error: ErrorLike, label: string): boolean {
  return typeof error.hasErrorLabel === 'function' && (error.hasErrorLabel as (l: string) => boolean)(label);
}

export function classifyMongoError(error: unknown): MongoErrorKind {
  if (typeof error !== 'object' || error === null) return 'other';
  const candidate = error as ErrorLike;
  // Labels first: a duplicate key inside a transaction that lost a race is labelled transient.
  if (hasLabel(candidate, 'TransientTransactionError')) return 'transient';
  if (hasLabel(candidate, 'UnknownTransactionCommitResult')) return 'unknown-commit-result';
  switch (candidate.code) {
    case MongoCode.DuplicateKey:
      return 'duplicate-key';
    case MongoCode.WriteConflict:
      return 'transient';
    case MongoCode.IllegalOperation:
      return 'not-a-replica-set';
    case MongoCode.NamespaceExists:
      return 'namespace-exists';
    case MongoCode.NamespaceNotFound:
      return 'namespace-not-found';
    default:
      return 'other';
  }
}

export const isDuplicateKey = (error: unknown): boolean => classifyMongoError(error) === 'duplicate-key';
