import type { Database, Statement } from 'better-sqlite3';
import type { IdempotencyRecord, IdempotencyStore } from '@app/ledger';
import { writeWithoutSleeping } from './open-sqlite';
import { ensureIdempotencySchema } from './schema';

interface IdempotencyRow {
  scope: string;
  request_hash: string;
  status: number;
  body: string;
  created_at: string;
}

/**
 * Records for answers that appended nothing; a 201 writes its record through the event store's append,
 * in the same transaction. In the embedded profile it has the request thread's query connection.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly selectRow: Statement<[string], IdempotencyRow>;
  private readonly insertRow: Statement<[IdempotencyRow]>;

  constructor(private readonly db: Database) {
    ensureIdempotencySchema(db);
    this.selectRow = db.prepare<[string], IdempotencyRow>('SELECT * FROM idempotency WHERE scope = ?');
    this.insertRow = db.prepare<[IdempotencyRow]>(
      `INSERT INTO idempotency (scope, request_hash, status, body, created_at)
       VALUES (@scope, @request_hash, @status, @body, @created_at) ON CONFLICT (scope) DO NOTHING`,
    );
  }

  async get(scope: string): Promise<IdempotencyRecord | null> {
    const row = this.selectRow.get(scope);
    return row
      ? {
          scope: row.scope,
          requestHash: row.request_hash,
          status: row.status,
          body: row.body,
          createdAt: row.created_at,
        }
      : null;
  }

  async put(record: IdempotencyRecord): Promise<boolean> {
    // On the request thread: a projector commit holding the write lock must not sleep the event loop.
    const { changes } = await writeWithoutSleeping(this.db, () =>
      this.insertRow.run({
        scope: record.scope,
        request_hash: record.requestHash,
        status: record.status,
        body: record.body,
        created_at: record.createdAt,
      }),
    );
    return changes === 1;
  }
}
