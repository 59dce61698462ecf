import { existsSync, mkdirSync } from 'node:fs';
import { openSqlite } from '@app/event-store';
import { embeddedLedgerFile, type LedgerConfig } from '@app/runtime';
import { NotFoundError, type Io } from './cli';

export type LedgerDb = ReturnType<typeof openSqlite>;

/**
 * Opens <dataDir>/ledger.db, the API's file. Commands that only read refuse a missing file rather than
 * create an empty ledger in the wrong place; `create` is for commands that make sense on a fresh install.
 */
export function openLedgerDb(config: LedgerConfig, io: Io, { create }: { create: boolean }): LedgerDb {
  const file = embeddedLedgerFile(config);
  if (!existsSync(file)) {
    if (!create) {
      throw new NotFoundError(`No ledger database at ${file}; pass --data-dir or set LEDGER_DATA_DIR.`);
    }
    mkdirSync(config.dataDir, { recursive: true });
    io.stderr(`Creating ${file}\n`);
  }
  return openSqlite(file);
}

export async function withLedgerDb<T>(
  config: LedgerConfig,
  io: Io,
  options: { create: boolean },
  use: (db: LedgerDb) => Promise<T>,
): Promise<T> {
  const db = openLedgerDb(config, io, options);
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
