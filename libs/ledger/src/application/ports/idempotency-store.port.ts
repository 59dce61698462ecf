/**
 * Idempotency records (DESIGN.md, normative): scope = (API key id, method, route, Idempotency-Key),
 * the request compared by the SHA-256 of its JCS bytes; status and body replayed byte for byte.
 * Records never expire.
 */

/**
 * What a command answered, kept as data: the edge renders the first answer and every replay from it with
 * one function, so they cannot differ.
 */
export type IdempotentAnswer =
  | {
      kind: 'outcome';
      stream: string;
      revision: number;
      /** The global position, as a decimal string. */
      position: string;
      /** Fields added to the answer, e.g. the issueId of a created issue. */
      extra: Record<string, unknown>;
      changed: boolean;
    }
  /** A domain answer (not found, a rule refused, a precondition failed): the problem document. */
  | { kind: 'problem'; problem: Record<string, unknown> }
  /** A record written before answers were kept as data: the body text exactly as first sent. */
  | { kind: 'body'; body: string };

export interface IdempotencyRecord {
  /** Lowercase hex SHA-256 of the JCS of [apiKeyId, method, route, idempotencyKey]. */
  scope: string;
  requestHash: string;
  status: number;
  answer: IdempotentAnswer;
  createdAt: string;
}

/**
 * A request in flight holds its scope, so a duplicate sent meanwhile, to this process or any other on the
 * same storage, is told to retry (409 idempotency-key-in-use). A holder that crashed leaves its claim
 * until `expiresAt`. Claims are apart from records, which never expire.
 */
export interface IdempotencyClaim {
  scope: string;
  /** Unique per request. */
  holder: string;
  expiresAt: string;
}

export interface IdempotencyStore {
  get(scope: string): Promise<IdempotencyRecord | null>;
  /** Inserts when absent; returns false (and changes nothing) when a record for the scope exists. */
  put(record: IdempotencyRecord): Promise<boolean>;
  /**
   * Takes the scope for `claim.holder`: true when it was free or its claim had expired by `now` (ISO-8601,
   * compared with `expiresAt`), false when another holder's claim is still live.
   */
  claim(claim: IdempotencyClaim, now: string): Promise<boolean>;
  /** Gives the scope back; a claim that another holder has taken since (ours expired) is left alone. */
  release(scope: string, holder: string): Promise<void>;
  /**
   * The secret that request fingerprints in event metadata are HMACs under (docs/hashing.md): the same for
   * every process on the storage, created on first use. Destroying it leaves every stored fingerprint
   * meaningless, which is how they stop saying anything about the requests' text.
   */
  fingerprintKey(): Promise<Uint8Array>;
}

export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');

/**
 * The stream holds a command sent under this Idempotency-Key scope with another request: the key is being
 * reused, and nothing is decided (HTTP 422).
 */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  constructor(
    readonly stream: string,
    readonly revision: number,
  ) {
    super(`The Idempotency-Key was first used with another request (${stream} at revision ${revision})`);
  }
}

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
