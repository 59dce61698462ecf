import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Group fsync of a SQLite WAL file off the event loop. The connection commits with `synchronous=NORMAL`
 * (COMMIT writes the WAL frames but does not wait for the disk); `afterSync(callback)` then calls back once
 * an fsync that *started after* the call has completed, on libuv's thread pool. Every commit written before
 * that fsync began is then on stable storage: an append is acknowledged only at that point, while the thread
 * goes on parsing, deciding and committing the next batch. fsync is per file on Linux and macOS, so our own
 * descriptor flushes the frames SQLite wrote through its own.
 */
export class WalSyncer {
  private fd: number | undefined;
  private running = false;
  private waiting: Array<(error: Error | null) => void> = [];
  private idle: Array<() => void> = [];
  /** Completed fsyncs, for the tests and benchmarks. */
  syncs = 0;

  constructor(private readonly walPath: string) {}

  afterSync(callback: (error: Error | null) => void): void {
    this.waiting.push(callback);
    if (!this.running) this.start();
  }

  /** Resolves when no fsync is running or waiting. */
  drained(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private start(): void {
    const callbacks = this.waiting;
    this.waiting = [];
    this.running = true;
    let fd: number;
    try {
      fd = this.descriptor();
    } catch (error) {
      this.finish(callbacks, error as Error);
      return;
    }
    fsync(fd, (error) => this.finish(callbacks, error));
  }

  private finish(callbacks: Array<(error: Error | null) => void>, error: Error | null): void {
    this.running = false;
    if (!error) this.syncs++;
    for (const callback of callbacks) callback(error);
    if (this.waiting.length > 0) this.start();
    else for (const resolve of this.idle.splice(0)) resolve();
  }

  /**
   * The WAL exists from the connection's first write and stays (SQLite reuses it after checkpoints) until
   * the last connection closes. Its directory entry is made durable once, when we first open it.
   */
  private descriptor(): number {
    if (this.fd === undefined) {
      this.fd = openSync(this.walPath, 'r');
      const directory = openSync(dirname(this.walPath), 'r');
      try {
        fsyncSync(directory);
      } finally {
        closeSync(directory);
      }
    }
    return this.fd;
  }
}
