import type { Database, Statement } from 'better-sqlite3';
import type { IdempotencyRecord, IdempotencyStore, IdempotentAnswer } from '@app/ledger';
import { writeWithoutSleeping } from './open-sqlite';
import { ensureIdempotencySchema } from './schema';

export interface IdempotencyRow {
  scope: string;
  request_hash: string;
  status: number;
  /** The body text of a record written before answers were kept as data; '' in the others. */
  body: string;
  /** The answer as JSON; NULL in a record written before answers were kept as data. */
  answer: string | null;
  created_at: string;
}

export const INSERT_IDEMPOTENCY_ROW = `INSERT INTO idempotency (scope, request_hash, status, body, answer, created_at)
  VALUES (@scope, @request_hash, @status, @body, @answer, @created_at) ON CONFLICT (scope) DO NOTHING`;

export function toIdempotencyRow(record: IdempotencyRecord): IdempotencyRow {
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
 * Records for answers that appended nothing; an appended outcome's record is written by the event store's
 * append, in the same transaction. In the embedded profile it has the request thread's query connection.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly selectRow: Statement<[string], IdempotencyRow>;
  private readonly insertRow: Statement<[IdempotencyRow]>;

  constructor(private readonly db: Database) {
    ensureIdempotencySchema(db);
    this.selectRow = db.prepare<[string], IdempotencyRow>(
      'SELECT scope, request_hash, status, body, answer, created_at FROM idempotency WHERE scope = ?',
    );
    this.insertRow = db.prepare<[IdempotencyRow]>(INSERT_IDEMPOTENCY_ROW);
  }

  async get(scope: string): Promise<IdempotencyRecord | null> {
    const row = this.selectRow.get(scope);
    return row ? toRecord(row) : null;
  }

  async put(record: IdempotencyRecord): Promise<boolean> {
    const row = toIdempotencyRow(record);
    // On the request thread: a projector commit holding the write lock must not sleep the event loop.
    const { changes } = await writeWithoutSleeping(this.db, () => this.insertRow.run(row));
    return changes === 1;
  }
}
