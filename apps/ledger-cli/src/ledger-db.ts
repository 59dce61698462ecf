import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '@app/event-store';
import { NotFoundError, type Io } from './cli';

/** Same file name as the API's embedded profile, so both work on one data directory. */
export const LEDGER_DB_FILE = 'ledger.db';

export type LedgerDb = ReturnType<typeof openSqlite>;

/**
 * Opens <dataDir>/ledger.db. Commands that only read refuse a missing file rather than create an empty
 * ledger in the wrong place; `create` is for commands that make sense on a fresh install.
 */
export function openLedgerDb(dataDir: string, io: Io, { create }: { create: boolean }): LedgerDb {
  const file = join(dataDir, LEDGER_DB_FILE);
  if (!existsSync(file)) {
    if (!create) {
      throw new NotFoundError(`No ledger database at ${file}; pass --data-dir or set LEDGER_DATA_DIR.`);
    }
    mkdirSync(dataDir, { recursive: true });
    io.stderr(`Creating ${file}\n`);
  }
  return openSqlite(file);
}

export async function withLedgerDb<T>(
  dataDir: string,
  io: Io,
  options: { create: boolean },
  use: (db: LedgerDb) => Promise<T>,
): Promise<T> {
  const db = openLedgerDb(dataDir, io, options);
  try {
    return await use(db);
  } finally {
    if (db.open) db.close();
  }
}

/** JSON with bigint positions as strings (they exceed 2^53 in principle). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    2,
  );
}
