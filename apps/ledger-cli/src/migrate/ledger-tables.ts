import type { Database } from 'better-sqlite3';

/**
 * Every table an embedded ledger file holds, by what a migration does with it (docs/migration.md). A table
 * in none of these lists would be left behind, so the migration refuses to start and names it.
 */
export const MOVED_BY_IMPORT = ['events', 'streams'] as const;

/** Copied row by row: what the ledger cannot work without and cannot derive from its events. */
export const COPIED_TABLES = [
  'api_keys',
  'merkle_signing_key',
  'merkle_digests',
  'idempotency_fingerprint_key',
  'idempotency',
] as const;
export type CopiedTable = (typeof COPIED_TABLES)[number];

/** Derived from the events on the target: the Merkle tree here, the read models by the projector at start. */
export const REBUILT_TABLES = ['merkle_leaves', 'merkle_nodes'] as const;
const READ_MODEL_PREFIX = 'rm_';

/** In-flight claims of idempotency keys: held by requests of a running ledger, and the source is stopped. */
export const OPERATIONAL_TABLES = ['idempotency_claims'] as const;

const known = new Set<string>([
  ...MOVED_BY_IMPORT,
  ...COPIED_TABLES,
  ...REBUILT_TABLES,
  ...OPERATIONAL_TABLES,
]);

export function tablesOf(db: Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row.name);
}

/** The source's tables a migration would leave behind (none of the lists above), to refuse before starting. */
export function tablesLeftBehind(db: Database): string[] {
  return tablesOf(db).filter(
    (name) => !known.has(name) && !name.startsWith(READ_MODEL_PREFIX) && !name.startsWith('sqlite_'),
  );
}

export function rowCount(db: Database, table: string): number {
  if (!tablesOf(db).includes(table)) return 0;
  return db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${table}"`).get()!.n;
}

function columnsOf(db: Database, table: string): string[] {
  return db
    .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)')
    .all(table)
    .map((row) => row.name);
}

const quoteAll = (names: readonly string[]) => names.map((name) => `"${name}"`).join(', ');

/** The table's first column is its key in every copied table (its primary key). */
function keyColumn(db: Database, table: string): string {
  return columnsOf(db, table)[0];
}

export interface CopyOutcome {
  table: CopiedTable;
  /** Rows of the source. */
  rows: number;
  /** Rows written now (the rest were already there: an earlier, interrupted run). */
  copied: number;
}

/**
 * Copies every row of `table` from the source to the target (whose stores have created it), row by row as
 * stored, `rewrite` aside; a row already on the target (an earlier run) must be the same row, else the
 * target is another ledger's and the copy stops. One transaction: all of the table or none.
 */
export function copyTable(
  source: Database,
  target: Database,
  table: CopiedTable,
  rewrite: (row: Record<string, unknown>) => Record<string, unknown> = (row) => row,
): CopyOutcome {
  if (!tablesOf(source).includes(table)) return { table, rows: 0, copied: 0 };
  const columns = columnsOf(source, table);
  const missing = columns.filter((column) => !columnsOf(target, table).includes(column));
  if (missing.length > 0) {
    throw new Error(`The target's ${table} table has no column ${missing.join(', ')}: it is an older format`);
  }
  const key = keyColumn(source, table);
  const read = source.prepare<[], Record<string, unknown>>(`SELECT ${quoteAll(columns)} FROM "${table}"`);
  const existing = target.prepare<[unknown], Record<string, unknown>>(
    `SELECT ${quoteAll(columns)} FROM "${table}" WHERE "${key}" = ?`,
  );
  const insert = target.prepare(
    `INSERT INTO "${table}" (${quoteAll(columns)}) VALUES (${columns.map((column) => `@${column}`).join(', ')})`,
  );
  let rows = 0;
  let copied = 0;
  target.transaction(() => {
    for (const stored of read.iterate()) {
      const row = rewrite(stored);
      rows++;
      const there = existing.get(row[key]);
      if (!there) {
        insert.run(row);
        copied++;
      } else if (!sameRow(there, row)) {
        throw new Error(
          `The target already holds another ${table} row ${String(row[key])}: it is not this ledger's copy`,
        );
      }
    }
  })();
  return { table, rows, copied };
}

function sameRow(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.keys(b).every((column) => {
    const left = a[column];
    const right = b[column];
    return Buffer.isBuffer(left) && Buffer.isBuffer(right) ? left.equals(right) : left === right;
  });
}
