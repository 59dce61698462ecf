import type { Database, Statement } from 'better-sqlite3';
import type { Subscription, SubscriptionItem } from '@app/ledger';
import type { CommitNotifier } from './commit-notifier';
import { toStoredEvent, type EventRow } from './event-row';
import { BOUND_LIMIT } from './open-sqlite';
import { pageOf, type PageRead, type RecentEvents } from './recent-events';

export interface SqliteSubscriptionOptions {
  db: Database;
  notifier: CommitNotifier;
  /** Deliver events with a position strictly greater than this. */
  after: number;
  streamPrefixes?: string[];
  pageSize: number;
  /** Pages shared with the store's other unfiltered subscriptions (none for a filtered one). */
  recent?: RecentEvents;
  /** Yield a checkpoint after a page whose scan went past its last event (a filtered-out stretch). */
  checkpoints: boolean;
  onEnd(subscription: SqliteSubscription): void;
}

/**
 * Catch-up subscription: reads pages of history up to the head seen before each query, then waits for the
 * next commit (see CommitNotifier) and reads on. One consumer; unsubscribe() ends its iteration. With
 * `checkpoints`, a page that scanned past its last event (rows the filter left out) is followed by a
 * checkpoint at the end of its scan, so a consumer on a quiet filter advances too.
 */
export class SqliteSubscription implements Subscription<SubscriptionItem> {
  private readonly selectPage: Statement<unknown[], EventRow>;
  private readonly selectHead: Statement<[], { head: number | null }>;
  private readonly iterator: AsyncGenerator<SubscriptionItem, void, undefined>;
  private ended = false;
  private cancelWait: (() => void) | undefined;

  constructor(private readonly options: SqliteSubscriptionOptions) {
    const prefixes = options.streamPrefixes;
    // substr() instead of LIKE: prefixes may hold %, _ or the escape character.
    const filter =
      prefixes === undefined
        ? ''
        : `AND (${prefixes.length === 0 ? '0' : prefixes.map(() => 'substr(stream, 1, ?) = ?').join(' OR ')})`;
    this.selectPage = options.db.prepare(
      `SELECT * FROM events WHERE position > ? AND position <= ? ${filter} ORDER BY position ${BOUND_LIMIT}`,
    );
    this.selectHead = options.db.prepare('SELECT MAX(position) AS head FROM events');
    this.iterator = this.run();
  }

  [Symbol.asyncIterator](): AsyncIterator<SubscriptionItem> {
    return this.iterator;
  }

  async unsubscribe(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.cancelWait?.();
    this.options.onEnd(this);
  }

  private readPage(after: number, head: number, prefixParams: unknown[]): PageRead {
    const { pageSize, recent } = this.options;
    const load = () => this.selectPage.all(after, head, ...prefixParams, pageSize).map(toStoredEvent);
    // A filtered page scans every row up to head too, matching the filter or not.
    return recent ? recent.read(after, head, pageSize, load) : pageOf(load(), head, pageSize);
  }

  private async *run(): AsyncGenerator<SubscriptionItem, void, undefined> {
    const { notifier, checkpoints } = this.options;
    const prefixParams = (this.options.streamPrefixes ?? []).flatMap((prefix) => [prefix.length, prefix]);
    let after = this.options.after;
    try {
      while (!this.ended) {
        // Read data_version first: a foreign commit after this point is seen by the wait below.
        const version = notifier.dataVersion();
        const head = this.selectHead.get()!.head ?? 0;
        if (head > after) {
          const { events, scannedTo } = this.readPage(after, head, prefixParams);
          for (const event of events) {
            if (this.ended) return;
            yield event;
          }
          const last = events.length > 0 ? Number(events[events.length - 1].position) : after;
          after = scannedTo;
          if (checkpoints && scannedTo > last) {
            if (this.ended) return;
            yield { kind: 'checkpoint', position: BigInt(scannedTo) };
          }
          continue;
        }
        const wait = notifier.wait(version);
        this.cancelWait = wait.cancel;
        await wait.promise;
        this.cancelWait = undefined;
      }
    } finally {
      await this.unsubscribe();
    }
  }
}
