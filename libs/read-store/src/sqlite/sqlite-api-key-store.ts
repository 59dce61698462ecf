import type { Database, Statement } from 'better-sqlite3';
import { writeWithoutSleeping } from '@app/event-store';
import type { ApiKeyRecord, ApiKeyStore, Role } from '@app/ledger';

interface ApiKeyRow {
  id: string;
  name: string;
  roles: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    roles: JSON.parse(row.roles) as Role[],
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** API keys in the shared SQLite file; creates its table on first use. */
export class SqliteApiKeyStore implements ApiKeyStore {
  private readonly insertRow: Statement<[ApiKeyRow]>;
  private readonly selectByHash: Statement<[string], ApiKeyRow>;
  private readonly selectAll: Statement<[], ApiKeyRow>;
  private readonly revokeRow: Statement<[string, string]>;
  private readonly countRows: Statement<[], { count: number }>;

  constructor(private readonly db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      roles TEXT NOT NULL,
      secret_hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    )`);
    this.insertRow = db.prepare<[ApiKeyRow]>(
      `INSERT INTO api_keys (id, name, roles, secret_hash, created_at, revoked_at)
       VALUES (@id, @name, @roles, @secret_hash, @created_at, @revoked_at)`,
    );
    this.selectByHash = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE secret_hash = ?');
    this.selectAll = db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
    this.revokeRow = db.prepare<[string, string]>(
      'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
    );
    this.countRows = db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM api_keys');
  }

  // Keys are created and revoked on the API's request thread too: a taken write lock must not sleep it.
  async insert(record: ApiKeyRecord): Promise<void> {
    await writeWithoutSleeping(this.db, () =>
      this.insertRow.run({
        id: record.id,
        name: record.name,
        roles: JSON.stringify(record.roles),
        secret_hash: record.secretHash,
        created_at: record.createdAt,
        revoked_at: record.revokedAt,
      }),
    );
  }

  async findBySecretHash(secretHash: string): Promise<ApiKeyRecord | null> {
    const row = this.selectByHash.get(secretHash);
    return row ? toRecord(row) : null;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return this.selectAll.all().map(toRecord);
  }

  async revoke(id: string, revokedAt: string): Promise<boolean> {
    return (await writeWithoutSleeping(this.db, () => this.revokeRow.run(revokedAt, id))).changes === 1;
  }

  async count(): Promise<number> {
    return this.countRows.get()!.count;
  }
}
