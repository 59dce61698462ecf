import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { isBusy } from '@app/event-store';

/** Another process has the file open: a migration works only on files nobody else uses. */
export class LedgerFileInUseError extends Error {
  override readonly name = 'LedgerFileInUseError';
}

/**
 * Opens a ledger file for a migration and holds it for this connection alone until it is closed:
 * `locking_mode = EXCLUSIVE` keeps the lock its first write transaction takes. In WAL mode every connection
 * holds a shared lock on the file while it is open, so taking the exclusive one fails at once (busy_timeout 0)
 * while the API, a projector or another ledger command has the file open, and, once taken, keeps them from
 * opening it: the source stays stopped and the target has no other writer for the whole run.
 */
export function openLockedLedgerFile(
  file: string,
  role: 'source' | 'target',
  { create }: { create: boolean },
): Database {
  if (!create && !existsSync(file)) throw new Error(`No ledger database at ${file}`);
  if (create) mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if (!isBusy(error)) throw error;
    throw new LedgerFileInUseError(
      `The ${role} ledger ${file} is open in another process (the API, a projector or another ledger ` +
        `command): ledger migrate runs only while nothing else uses ${role === 'source' ? 'the source' : 'the target'}. ` +
        'Stop it and run the command again.',
    );
  }
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}
