import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore, IdempotentAnswer } from '@app/ledger';
import { writeWithoutSleeping } from './open-sqlite';
import { ensureIdempotencySchema } from './schema';

interface IdempotencyRow {
  scope: string;
  request_hash: string;
  status: number;
  /** The body text of a record written before answers were kept as data; '' in the others. */
  body: string;
  /** The answer as JSON; NULL in a record written before answers were kept as data. */
  answer: string | null;
  created_at: string;
}

function toRow(record: IdempotencyRecord): IdempotencyRow {
  const { answer } = record;
  return {
    scope: record.scope,
    request_hash: record.requestHash,
    status: record.status,
    body: answer.kind === 'body' ? answer.body : '',
    answer: answer.kind === 'body' ? null : JSON.stringify(answer),
    created_at: record.createdAt,
  };
}

function toRecord(row: IdempotencyRow): IdempotencyRecord {
  return {
    scope: row.scope,
    requestHash: row.request_hash,
    status: row.status,
    answer:
      row.answer === null ? { kind: 'body', body: row.body } : (JSON.parse(row.answer) as IdempotentAnswer),
    createdAt: row.created_at,
  };
}

/**
 * The one writer and reader of the `idempotency` table: its statements and its encoding of a record. Both
 * SqliteIdempotencyStore and the event store's append (inside its transaction) go through it.
 */
export class IdempotencyTable {
  private readonly selectRow: Statement<[string], IdempotencyRow>;
  private readonly insertRow: Statement<[IdempotencyRow]>;

  constructor(db: Database) {
    ensureIdempotencySchema(db);
    this.selectRow = db.prepare<[string], IdempotencyRow>(
      'SELECT scope, request_hash, status, body, answer, created_at FROM idempotency WHERE scope = ?',
    );
    this.insertRow = db.prepare<[IdempotencyRow]>(
      `INSERT INTO idempotency (scope, request_hash, status, body, answer, created_at)
       VALUES (@scope, @request_hash, @status, @body, @answer, @created_at) ON CONFLICT (scope) DO NOTHING`,
    );
  }

  get(scope: string): IdempotencyRecord | null {
    const row = this.selectRow.get(scope);
    return row ? toRecord(row) : null;
  }

  /** Inserts unless the scope has a record; true when it did. Runs in the caller's transaction, if any. */
  insert(record: IdempotencyRecord): boolean {
    return this.insertRow.run(toRow(record)).changes === 1;
  }
}

/**
 * Records for answers that appended nothing; an appended outcome's record is written by the event store's
 * append, in the same transaction. In the embedded profile it has the request thread's query connection.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly records: IdempotencyTable;
  private readonly claimRow: Statement<[{ scope: string; holder: string; expires_at: string; now: string }]>;
  private readonly releaseRow: Statement<[string, string]>;
  private readonly selectKey: Statement<[], { secret: Buffer }>;
  private readonly insertKey: Statement<[Buffer, string]>;

  constructor(private readonly db: Database) {
    this.records = new IdempotencyTable(db);
    this.claimRow = db.prepare(
      `INSERT INTO idempotency_claims (scope, holder, expires_at) VALUES (@scope, @holder, @expires_at)
       ON CONFLICT (scope) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE idempotency_claims.expires_at <= @now`,
    );
    this.releaseRow = db.prepare('DELETE FROM idempotency_claims WHERE scope = ? AND holder = ?');
    this.selectKey = db.prepare('SELECT secret FROM idempotency_fingerprint_key WHERE id = 1');
    this.insertKey = db.prepare(
      'INSERT INTO idempotency_fingerprint_key (id, secret, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING',
    );
  }

  async get(scope: string): Promise<IdempotencyRecord | null> {
    return this.records.get(scope);
  }

  async put(record: IdempotencyRecord): Promise<boolean> {
    // On the request thread: a projector commit holding the write lock must not sleep the event loop.
    return writeWithoutSleeping(this.db, () => this.records.insert(record));
  }

  async claim({ scope, holder, expiresAt }: IdempotencyClaim, now: string): Promise<boolean> {
    const { changes } = await writeWithoutSleeping(this.db, () =>
      this.withoutCommitSync(() => this.claimRow.run({ scope, holder, expires_at: expiresAt, now })),
    );
    return changes === 1;
  }

  async release(scope: string, holder: string): Promise<void> {
    await writeWithoutSleeping(this.db, () =>
      this.withoutCommitSync(() => this.releaseRow.run(scope, holder)),
    );
  }

  /** 32 random bytes made by whichever process asks first; the others read that row. */
  async fingerprintKey(): Promise<Uint8Array> {
    const stored = this.selectKey.get();
    if (stored) return new Uint8Array(stored.secret);
    await writeWithoutSleeping(this.db, () => this.insertKey.run(randomBytes(32), new Date().toISOString()));
    return new Uint8Array(this.selectKey.get()!.secret);
  }

  /**
   * Claims need no fsync at their COMMIT (two per keyed command on the request thread otherwise): one lost to
   * a power cut was held by a request that died with it. With WAL, `synchronous = NORMAL` keeps the file
   * consistent and the next fsynced commit carries the claim to disk anyway.
   */
  private withoutCommitSync<T>(write: () => T): T {
    const synchronous = this.db.pragma('synchronous', { simple: true }) as number;
    if (synchronous < 2 || this.db.inTransaction) return write();
    this.db.pragma('synchronous = NORMAL');
    try {
      return write();
    } finally {
      this.db.pragma(`synchronous = ${synchronous}`);
    }
  }
}
