import type { Database, Statement, Transaction } from 'better-sqlite3';
import { writeWithoutSleeping } from '@app/event-store';
import { LeaseLostError, type Lease, type LeaseStore } from '@app/ledger';

interface LeaseRow {
  name: string;
  holder: string;
  token: bigint;
  expires_at: number;
}

const toLease = (row: LeaseRow): Lease => ({
  name: row.name,
  holder: row.holder,
  token: BigInt(row.token),
  expiresAt: Number(row.expires_at),
});

export interface SqliteLeaseStoreOptions {
  /** Milliseconds since the epoch; the machine's clock, shared by every process on the file. */
  now?: () => number;
}

/**
 * Leases in the ledger's SQLite file (table `leases`), beside the checkpoints they fence: every decision
 * is one IMMEDIATE transaction, so two processes racing for a free lease serialise on the write lock and
 * one of them wins. The clock is the machine's: every process on one file runs on the same machine.
 */
export class SqliteLeaseStore implements LeaseStore {
  private readonly now: () => number;
  private readonly selectOne: Statement<[string], LeaseRow>;
  private readonly selectAll: Statement<[], LeaseRow>;
  private readonly upsert: Statement<[string, string, bigint, number]>;
  private readonly acquireTx: Transaction<(name: string, holder: string, ttlMs: number) => Lease | null>;
  private readonly renewTx: Transaction<(lease: Lease, ttlMs: number) => Lease | null>;
  private readonly releaseTx: Transaction<(lease: Lease) => void>;

  constructor(
    private readonly db: Database,
    options: SqliteLeaseStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    db.exec(`CREATE TABLE IF NOT EXISTS leases (
      name TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      token INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.selectOne = db
      .prepare<[string], LeaseRow>('SELECT name, holder, token, expires_at FROM leases WHERE name = ?')
      .safeIntegers(true);
    this.selectAll = db
      .prepare<[], LeaseRow>('SELECT name, holder, token, expires_at FROM leases ORDER BY name')
      .safeIntegers(true);
    this.upsert = db.prepare(
      `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
         expires_at = excluded.expires_at`,
    );
    this.acquireTx = db.transaction((name: string, holder: string, ttlMs: number) => {
      const now = this.now();
      const row = this.selectOne.get(name);
      const current = row ? toLease(row) : undefined;
      const live = current !== undefined && current.expiresAt > now;
      if (live && current.holder !== holder) return null;
      // Held by us: renewed under the same token; free or expired: taken over under the next one.
      const token = live ? current.token : (current?.token ?? 0n) + 1n;
      const lease: Lease = { name, holder, token, expiresAt: now + ttlMs };
      this.upsert.run(name, holder, token, lease.expiresAt);
      return lease;
    });
    this.renewTx = db.transaction((lease: Lease, ttlMs: number) => {
      const row = this.selectOne.get(lease.name);
      if (!row || BigInt(row.token) !== lease.token || row.holder !== lease.holder) return null;
      // An expired lease nobody took over yet is still ours: the token proves nobody wrote under another.
      const renewed: Lease = { ...lease, expiresAt: this.now() + ttlMs };
      this.upsert.run(lease.name, lease.holder, lease.token, renewed.expiresAt);
      return renewed;
    });
    this.releaseTx = db.transaction((lease: Lease) => {
      const row = this.selectOne.get(lease.name);
      if (!row || BigInt(row.token) !== lease.token) return;
      // Nobody's, expired now, token kept: the next holder takes it at once, under the next token.
      this.upsert.run(lease.name, '', lease.token, 0);
    });
  }

  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    return writeWithoutSleeping(this.db, () => this.acquireTx.immediate(name, holder, ttlMs));
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return writeWithoutSleeping(this.db, () => this.renewTx.immediate(lease, ttlMs));
  }

  release(lease: Lease): Promise<void> {
    return writeWithoutSleeping(this.db, () => this.releaseTx.immediate(lease));
  }

  async list(): Promise<Lease[]> {
    return this.selectAll.all().map(toLease);
  }

  /**
   * The fence, inside a write transaction on this store's connection (the read-model store's commit):
   * throws LeaseLostError unless `name` is still at `token`. A takeover needs the write lock the commit
   * holds, so the answer stays true until that commit ends.
   */
  checkHeld(name: string, token: bigint | undefined): void {
    const row = token === undefined ? undefined : this.selectOne.get(name);
    if (!row || BigInt(row.token) !== token) throw new LeaseLostError(name, token);
  }
}
