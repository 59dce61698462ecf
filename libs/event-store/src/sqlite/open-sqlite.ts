import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { StorageBusyError } from '@app/ledger';

/**
 * A LIMIT bound at each run, for statements prepared once and run many times. With a bare `LIMIT ?` SQLite
 * plans with the bound value, so every new binding expires the statement and the next run compiles it again
 * (sqlite3ExprIsInteger marks the parameter in the statement's "varmask"): about 7–10 µs per run of a stream
 * tail read. The unary plus hides the parameter from that: same rows, compiled once. Only for statements
 * whose plan the limit cannot change (a walk of one index in its own order).
 */
export const BOUND_LIMIT = 'LIMIT +?';

/** The size a WAL file is cut back to when the log next starts over, after a burst left it bigger. */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** How long a connection waits for another connection's write lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating directories and file) a SQLite database with the settings every embedded store shares,
 * so that the event store, read models and API keys in one file behave the same (docs/storage.md):
 * - journal_mode=WAL: readers (projector, queries) never block the writer, nor it them.
 * - synchronous=FULL: the WAL is fsynced at every COMMIT, so an acknowledged append survives power loss;
 *   the event store's group commit pays that fsync once per batch.
 * - busy_timeout: other processes (the CLI, a projector) waiting for the write lock retry instead of failing.
 * - foreign_keys=ON: SQLite leaves them off by default, per connection.
 * - journal_size_limit: a WAL file that a long reader or a rebuild let grow is cut back to 64 MiB once the
 *   log starts over, instead of keeping its largest size for good.
 */
export function openSqlite(path: string, options: { readonly?: boolean } = {}): Database {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
  });
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  return db;
}

/** SQLite's answers when another connection holds a lock this one needs. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Runs a write on a connection of the request thread without sleeping the thread. With busy_timeout, a
 * write that finds the write lock taken (the projector or the Merkle thread committing) waits in SQLite's
 * busy handler, which sleeps the whole event loop in steps of 1 to 100 ms. Here the write runs with
 * busy_timeout 0 and, while the lock is taken, runs again a millisecond later from a timer, for up to
 * SQLITE_BUSY_TIMEOUT_MS; then a StorageBusyError is thrown. `work` must be one statement or transaction.
 */
export async function writeWithoutSleeping<T>(db: Database, work: () => T): Promise<T> {
  const deadline = Date.now() + SQLITE_BUSY_TIMEOUT_MS;
  for (;;) {
    const timeout = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      return work();
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (Date.now() >= deadline) throw new StorageBusyError(SQLITE_BUSY_TIMEOUT_MS, { cause: error });
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
