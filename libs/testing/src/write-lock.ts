import type { Database } from 'better-sqlite3';

/**
 * Takes the write lock on `holder`, a second connection to the file (as the projector thread or another
 * process would hold it), and releases it from a timer of this thread after `ms`. A write that sleeps the
 * thread in SQLite's busy handler keeps that timer from running, and so fails with SQLITE_BUSY.
 */
export function holdWriteLockFor(holder: Database, ms: number): Promise<void> {
  holder.exec('BEGIN IMMEDIATE');
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      holder.exec('COMMIT');
      resolve();
    }, ms),
  );
}
