import type { Database, Statement } from 'better-sqlite3';
import type { RawEventRow, StreamHeadRow, VerificationSnapshot, VerificationSource } from '@app/ledger';
import { openSqlite } from './open-sqlite';

const BATCH = 10_000;

const COLUMNS =
  'position, stream, revision, type, schema_version AS schemaVersion, data, metadata, canonical, hash';

/**
 * Chain verification's raw reader of the embedded ledger: its own read-only connection, one read
 * transaction (a WAL snapshot, so events and stream heads are seen as of one commit while appends go on),
 * rows in position order in large batches, the columns as stored text. Yields to the event loop between
 * batches so a server using it keeps answering.
 */
export class SqliteVerificationSource implements VerificationSource {
  readonly densePositions = true;

  constructor(private readonly file: string) {}

  async snapshot<T>(use: (snapshot: VerificationSnapshot) => Promise<T>): Promise<T> {
    const db = openSqlite(this.file, { readonly: true });
    try {
      db.exec('BEGIN');
      try {
        return await use(new SqliteSnapshot(db));
      } finally {
        if (db.inTransaction) db.exec('COMMIT');
      }
    } finally {
      db.close();
    }
  }
}

class SqliteSnapshot implements VerificationSnapshot {
  private readonly all: Statement<[number, number], RawEventRow>;
  private readonly ofStream: Statement<[string, number, number], RawEventRow>;

  constructor(private readonly db: Database) {
    this.all = db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`);
    this.ofStream = db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND position > ? ORDER BY position LIMIT ?`,
    );
  }

  async count(stream?: string): Promise<number> {
    const row =
      stream === undefined
        ? this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM events').get()
        : this.db
            .prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM events WHERE stream = ?')
            .get(stream);
    return row?.n ?? 0;
  }

  async *batches(stream?: string): AsyncIterable<RawEventRow[]> {
    let after = 0;
    for (;;) {
      const rows =
        stream === undefined ? this.all.all(after, BATCH) : this.ofStream.all(stream, after, BATCH);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1].position;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async heads(stream?: string): Promise<StreamHeadRow[]> {
    const sql =
      'SELECT stream, revision, last_hash AS lastHash, last_position AS lastPosition FROM streams' +
      (stream === undefined ? '' : ' WHERE stream = ?');
    const statement = this.db.prepare<unknown[], StreamHeadRow>(sql);
    return stream === undefined ? statement.all() : statement.all(stream);
  }
}
