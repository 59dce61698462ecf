import type { Database } from 'better-sqlite3';

/** How often waiting subscriptions look for commits made through other connections (docs/storage.md). */
export const DEFAULT_POLL_INTERVAL_MS = 50;

interface Waiter {
  /** data_version seen before the reader's last query; any other value means a foreign commit since. */
  since: number;
  wake(): void;
}

/**
 * Wakes subscriptions when the events may have changed. Commits through this connection call notify()
 * right after COMMIT. Commits through any other connection (another process, a worker thread, a second
 * handle) are found by polling `PRAGMA data_version`, which changes exactly when another connection has
 * committed to the file; it never changes for this connection's own commits, hence notify(). The timer runs
 * only while someone waits, and keeps the process alive like an open socket would.
 */
export class CommitNotifier {
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly pollIntervalMs: number,
  ) {}

  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  notify(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** Resolves on the next commit after `since` was read; cancel() resolves it at once. */
  wait(since: number): { promise: Promise<void>; cancel(): void } {
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve) => {
      waiter = {
        since,
        wake: () => {
          this.waiters.delete(waiter);
          if (this.waiters.size === 0) this.stopPolling();
          resolve();
        },
      };
    });
    this.waiters.add(waiter);
    this.startPolling();
    return { promise, cancel: () => waiter.wake() };
  }

  private startPolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.pollIntervalMs);
  }

  private stopPolling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    if (!this.db.open) {
      this.notify();
      return;
    }
    const version = this.dataVersion();
    for (const waiter of [...this.waiters]) if (waiter.since !== version) waiter.wake();
  }
}

const notifiers = new WeakMap<Database, CommitNotifier>();

/** One notifier per connection, so stores sharing a handle also wake each other's subscriptions. */
export function commitNotifierFor(db: Database, pollIntervalMs = DEFAULT_POLL_INTERVAL_MS): CommitNotifier {
  let notifier = notifiers.get(db);
  if (!notifier) {
    notifier = new CommitNotifier(db, pollIntervalMs);
    notifiers.set(db, notifier);
  }
  return notifier;
}
