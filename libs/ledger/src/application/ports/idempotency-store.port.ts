/**
 * Idempotency records (DESIGN.md, normative): scope = (API key id, method, route, Idempotency-Key),
 * the request compared by the SHA-256 of its JCS bytes; status and body replayed byte for byte.
 * Records never expire.
 */
export interface IdempotencyRecord {
  /** Lowercase hex SHA-256 of the JCS of [apiKeyId, method, route, idempotencyKey]. */
  scope: string;
  requestHash: string;
  status: number;
  body: string;
  createdAt: string;
}

export interface IdempotencyStore {
  get(scope: string): Promise<IdempotencyRecord | null>;
  /** Inserts when absent; returns false (and changes nothing) when a record for the scope exists. */
  put(record: IdempotencyRecord): Promise<boolean>;
}

export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');

/**
 * Raised by an append carrying an idempotency record when a record for the scope already exists: the
 * append is rolled back, so a request raced by its own duplicate never executes twice.
 */
export class IdempotencyScopeTakenError extends Error {
  override readonly name = 'IdempotencyScopeTakenError';
  constructor(readonly scope: string) {
    super(`An idempotency record already exists for scope ${scope}`);
  }
}
