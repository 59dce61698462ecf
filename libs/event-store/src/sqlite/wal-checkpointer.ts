import type { Database } from 'better-sqlite3';

/**
 * `wal_autocheckpoint` of the connections that leave checkpoints to a WalCheckpointer: past 64 MiB of
 * WAL their own COMMIT checkpoints, as a backstop for when the checkpointer's thread is stuck.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384;

export interface WalCheckpointerOptions {
  /** Milliseconds between checkpoints; default 200. */
  intervalMs?: number;
  /** WAL frames (pages) from which the log is restarted; default 4096, 16 MiB of 4 KiB pages. */
  restartFrames?: number;
  /** Longest wait of a restart for the write lock and for readers of the old log; default 20 ms. */
  restartWaitMs?: number;
  /** A checkpoint that failed other than by finding the database busy; the next one runs as planned. */
  onError?: (error: unknown) => void;
}

export interface CheckpointReport {
  /** Frames in the WAL since it last restarted. */
  frames: number;
  /** Of those, the ones now copied into the database file. */
  checkpointed: number;
  /** Whether the next write starts the WAL over from its beginning. */
  restarted: boolean;
}

const MAX_SKIPPED_RESTARTS = 32;

interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}

/**
 * Keeps the WAL of a database that is written without pause from growing without end (docs/storage.md,
 * "Checkpoints"). SQLite's automatic checkpoints are PASSIVE: they copy the frames that exist when they
 * start, while other connections go on committing, so the log is never wholly copied when the next write
 * begins, and a writer goes back to the start of the WAL only then. Under steady load the file grew by
 * every frame ever written (70 MB in 13 s of bench:commands). So, on one connection: every `intervalMs` a
 * PASSIVE checkpoint, which takes no lock; once the log holds `restartFrames`, a RESTART right after it,
 * which holds the write lock to copy the few frames committed meanwhile and to wait for readers of the old
 * log, at most `restartWaitMs`. No RESTART while the PASSIVE ones leave frames uncopied without progress
 * from one turn to the next: a reader holds an old snapshot (a verification, an export), and a RESTART would
 * only hold the lock waiting for it. After a RESTART that found the lock or readers busy anyway, the next
 * 1, 2, 4 ... up to 32 turns run no RESTART.
 */
export class WalCheckpointer {
  private readonly restartFrames: number;
  private readonly restartWaitMs: number;
  private readonly timer: NodeJS.Timeout;
  /** Turns left without a RESTART, after busy ones; and how many the next busy one skips. */
  private skipRestarts = 0;
  private nextSkip = 1;
  /** Frames the last PASSIVE checkpoint had copied (none known at first, nor after a restart). */
  private lastCheckpointed = Number.POSITIVE_INFINITY;

  private constructor(
    private readonly db: Database,
    options: WalCheckpointerOptions,
  ) {
    const intervalMs = positiveInteger('intervalMs', options.intervalMs ?? 200);
    this.restartFrames = positiveInteger('restartFrames', options.restartFrames ?? 4096);
    this.restartWaitMs = positiveInteger('restartWaitMs', options.restartWaitMs ?? 20);
    const onError = options.onError ?? (() => undefined);
    this.timer = setInterval(() => {
      try {
        this.checkpoint();
      } catch (error) {
        onError(error);
      }
    }, intervalMs);
    this.timer.unref();
  }

  /** Starts checkpointing `db` (a WAL database) every `intervalMs`, until stop(). */
  static start(db: Database, options: WalCheckpointerOptions = {}): WalCheckpointer {
    return new WalCheckpointer(db, options);
  }

  /**
   * One checkpoint, as the timer runs it. None (undefined) while the connection is in a transaction, or
   * when another connection's checkpoint was running.
   */
  checkpoint(): CheckpointReport | undefined {
    if (this.db.inTransaction) return undefined;
    const skipping = this.skipRestarts > 0;
    if (skipping) this.skipRestarts--;
    const [passive] = this.db.pragma('wal_checkpoint(PASSIVE)') as CheckpointRow[];
    if (passive.busy) return undefined;
    const unrestarted = { frames: passive.log, checkpointed: passive.checkpointed, restarted: false };
    // Pinned: frames left uncopied and no progress since the last turn, a reader holding an old snapshot
    // (a short read that happened to be running lets the copy move on by the next turn).
    const pinned = passive.checkpointed < passive.log && passive.checkpointed <= this.lastCheckpointed;
    this.lastCheckpointed = passive.checkpointed;
    if (passive.log < this.restartFrames || pinned || skipping) return unrestarted;
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma(`busy_timeout = ${this.restartWaitMs}`);
    try {
      const [restart] = this.db.pragma('wal_checkpoint(RESTART)') as CheckpointRow[];
      // Busy: another connection held the write lock, or read the old log, for all of restartWaitMs.
      if (restart.busy) {
        this.skipRestarts = this.nextSkip;
        this.nextSkip = Math.min(this.nextSkip * 2, MAX_SKIPPED_RESTARTS);
        return unrestarted;
      }
      this.nextSkip = 1;
      this.lastCheckpointed = Number.POSITIVE_INFINITY;
      return { frames: restart.log, checkpointed: restart.checkpointed, restarted: true };
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
