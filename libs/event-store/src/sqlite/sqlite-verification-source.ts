import type { Database, Statement } from 'better-sqlite3';
import type {
  RawEventRow,
  ScannedEvent,
  StreamHeadRow,
  VerificationSnapshot,
  VerificationSource,
} from '@app/ledger';
import { openSqlite } from './open-sqlite';

const DEFAULT_BATCH = 10_000;

const ROW_COLUMNS =
  'position, stream, revision, type, schema_version AS schemaVersion, data, metadata, canonical, hash';

/**
 * columnsMatchCanonical (libs/ledger/src/audit/verify/ledger-verifier.ts) in SQL: the canonical bytes equal
 * the JCS envelope around the stored data and metadata minus `,"hash":"<hash column>"`. Done here, the large
 * data and metadata texts never become JavaScript strings: reading them out costs more than hashing.
 * json_quote quotes every stream and type name a ledger writes as JCS does; an exotic one it does not only
 * sends the event to the parsing diagnosis, which has the last word.
 */
const COLUMNS_MATCH = `canonical = '{"data":' || data || ',"metadata":' ||
  replace(metadata, ',"hash":"' || hash || '"', '') || ',"revision":' || revision ||
  ',"schemaVersion":' || schema_version || ',"stream":' || json_quote(stream) || ',"type":' ||
  json_quote(type) || '}' AND instr(metadata, ',"hash":"' || hash || '"') > 0`;

const SCAN_COLUMNS = `position, stream, revision, canonical, hash, ${COLUMNS_MATCH}`;

/** As SQLite answers it: the comparison is 1, 0 or NULL (a NULL column). */
type ScanRow = [number, string, number, string, string, number | boolean | null];

/**
 * Chain verification's raw reader of the embedded ledger: its own read-only connection, one read
 * transaction (a WAL snapshot, so events and stream heads are seen as of one commit while appends go on),
 * rows in position order in large batches. Yields to the event loop between batches so a server using it
 * keeps answering.
 */
export class SqliteVerificationSource implements VerificationSource {
  readonly densePositions = true;

  constructor(
    private readonly file: string,
    /** Rows per read; the event loop runs between batches, so a server passes fewer than the CLI. */
    private readonly options: { batchSize?: number } = {},
  ) {}

  async snapshot<T>(use: (snapshot: VerificationSnapshot) => Promise<T>): Promise<T> {
    const db = openSqlite(this.file, { readonly: true });
    try {
      db.exec('BEGIN');
      try {
        return await use(new SqliteSnapshot(db, this.options.batchSize ?? DEFAULT_BATCH));
      } finally {
        if (db.inTransaction) db.exec('COMMIT');
      }
    } finally {
      db.close();
    }
  }
}

class SqliteSnapshot implements VerificationSnapshot {
  private readonly all: Statement<[number, number], ScanRow>;
  private readonly ofStream: Statement<[string, number, number], ScanRow>;
  private readonly byPosition: Statement<[number], RawEventRow>;

  constructor(
    private readonly db: Database,
    private readonly batchSize: number,
  ) {
    // Raw rows (arrays): no object per row.
    this.all = db
      .prepare<[number, number], ScanRow>(
        `SELECT ${SCAN_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
      )
      .raw(true);
    this.ofStream = db
      .prepare<[string, number, number], ScanRow>(
        `SELECT ${SCAN_COLUMNS} FROM events WHERE stream = ? AND position > ? ORDER BY position LIMIT ?`,
      )
      .raw(true);
    this.byPosition = db.prepare(`SELECT ${ROW_COLUMNS} FROM events WHERE position = ?`);
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

  async *batches(stream?: string): AsyncIterable<ScannedEvent[]> {
    let after = 0;
    for (;;) {
      const rows =
        stream === undefined
          ? this.all.all(after, this.batchSize)
          : this.ofStream.all(stream, after, this.batchSize);
      if (rows.length === 0) return;
      for (const row of rows) row[5] = row[5] === 1;
      yield rows as ScannedEvent[];
      if (rows.length < this.batchSize) return;
      after = rows[rows.length - 1][0];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async row(position: number): Promise<RawEventRow | null> {
    return this.byPosition.get(position) ?? null;
  }

  async heads(stream?: string): Promise<StreamHeadRow[]> {
    const sql =
      'SELECT stream, revision, last_hash AS lastHash, last_position AS lastPosition FROM streams' +
      (stream === undefined ? '' : ' WHERE stream = ?');
    const statement = this.db.prepare<unknown[], StreamHeadRow>(sql);
    return stream === undefined ? statement.all() : statement.all(stream);
  }
}
