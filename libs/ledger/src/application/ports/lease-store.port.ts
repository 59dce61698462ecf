/**
 * The lease store port: a named, expiring lease held by one holder at a time, so that several projector
 * processes run each projection with exactly one writer (docs/projections.md "Leases"). The token is the
 * fence: it increases on every takeover, and a writer's commits check it in their own transaction, so a
 * holder that paused past its expiry and was replaced cannot write when it wakes up. Adapters: embedded
 * SQLite (libs/read-store/src/sqlite); they pass the contract suite in libs/read-store/src/contract.
 */

export interface Lease {
  name: string;
  holder: string;
  /** Increases each time the lease passes to a holder (a renewal keeps it). */
  token: bigint;
  /** Milliseconds since the epoch, by the store's clock. */
  expiresAt: number;
}

export interface LeaseStore {
  /**
   * Takes the lease for `holder` when nobody holds it, its holder's expiry has passed, or `holder` holds it
   * already (then it is renewed, same token); null when another holder has it.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease still held with the same token; null when it was lost (taken over or released). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Gives it up at once, so another holder may take it without waiting for the expiry. */
  release(lease: Lease): Promise<void>;
  /** Every lease ever taken (held, expired or released), by name. */
  list(): Promise<Lease[]>;
}

/** A commit refused because its writer no longer holds the lease with the token it wrote under. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(
    readonly lease: string,
    readonly token: bigint | undefined,
  ) {
    super(
      token === undefined
        ? `Lease ${lease} is not held by this writer; nothing was written`
        : `Lease ${lease} moved past token ${token}; nothing was written`,
    );
  }
}
