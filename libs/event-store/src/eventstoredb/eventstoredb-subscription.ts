import {
  CancelledError,
  excludeSystemEvents,
  START,
  streamNameFilter,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type Filter,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type {
  StoredEvent,
  SubscribeToAllOptions,
  Subscription,
  SubscriptionCheckpoint,
  SubscriptionItem,
} from '@app/ledger';

/** Pause before subscribing again after a drop; doubled up to the maximum while drops go on. */
const RESUBSCRIBE_DELAY_MS = 50;
const RESUBSCRIBE_MAX_DELAY_MS = 2000;
/** Items read ahead of the consumer: past the high mark the client's stream is paused, below the low resumed. */
const QUEUE_HIGH = 64;
const QUEUE_LOW = 16;
/**
 * Log positions are signed 64-bit on the server. Servers before 24.10.5 could send a checkpoint of
 * (2^64 - 1, 2^64 - 1) on going live (KurrentDB #4892): outside the log, never to be stored.
 */
const MAX_LOG_POSITION = 2n ** 63n - 1n;

export interface EventStoreDbSubscriptionParts {
  client: EventStoreDBClient;
  options: SubscribeToAllOptions;
  /** The adapter's reader: null for anything that is not a ledger event. */
  toStoredEvent: (resolved: ResolvedEvent) => StoredEvent | null;
  /** Errors after which subscribing again is right (the server went away), rather than ending. */
  isDrop: (error: unknown) => boolean;
  onEnd: (subscription: EventStoreDbSubscription) => void;
}

/** What one client subscription delivered, in the order the server sent it. */
type Delivered = { kind: 'event'; resolved: ResolvedEvent } | { kind: 'checkpoint'; position: Position };

const ENDED = Symbol('ended');

/**
 * One client subscription's events and checkpoints in one queue, in the server's order. The client hands
 * events over as a readable stream (buffering up to 16 unread) but calls `checkpointReached` as soon as a
 * checkpoint arrives, while events the server sent before it may still sit unread in that buffer. So a
 * checkpoint waits until as many more events as were buffered at its arrival have been queued before it.
 */
class OrderedFeed {
  private readonly queue: Delivered[] = [];
  /** Checkpoints waiting for `ahead` more events, oldest first. */
  private readonly held: Array<{ position: Position; ahead: number }> = [];
  private source: AllStreamSubscription | undefined;
  private failure: { error: unknown } | undefined;
  private ended = false;
  private wake: (() => void) | undefined;

  attach(source: AllStreamSubscription): void {
    this.source = source;
    source.on('data', (resolved: ResolvedEvent) => {
      this.queue.push({ kind: 'event', resolved });
      for (const checkpoint of this.held) checkpoint.ahead--;
      while (this.held.length > 0 && this.held[0].ahead <= 0) {
        this.queue.push({ kind: 'checkpoint', position: this.held.shift()!.position });
      }
      if (this.queue.length >= QUEUE_HIGH) source.pause();
      this.notify();
    });
    source.on('error', (error: unknown) => {
      this.failure ??= { error };
      this.notify();
    });
    source.on('end', () => this.stop());
    source.on('close', () => this.stop());
  }

  /** The client's checkpointReached: every event sent before it is queued or still in its buffer. */
  checkpointReached(source: AllStreamSubscription, position: Position): void {
    const ahead = source.readableLength;
    if (ahead === 0 && this.held.length === 0) this.queue.push({ kind: 'checkpoint', position });
    else this.held.push({ position, ahead });
    this.notify();
  }

  async next(): Promise<Delivered | typeof ENDED> {
    for (;;) {
      const item = this.queue.shift();
      if (item) {
        if (this.queue.length < QUEUE_LOW && this.source?.isPaused()) this.source.resume();
        return item;
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return ENDED;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  stop(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * subscribeToAll on EventStoreDB. With `checkpoints`, the subscription is always filtered on the server
 * (by the stream prefixes asked for, else excluding system event types), because the server sends
 * checkpoints to filtered subscriptions only; each checkpoint is yielded after every event sent before it,
 * at its commit position (filtered checkpoints may carry prepare = 0). After a drop or an unexpected end it
 * subscribes again from the last event or checkpoint yielded and drops repeats, so every ledger event after
 * the start position is yielded once, in order.
 */
export class EventStoreDbSubscription implements Subscription<SubscriptionItem> {
  private current: { subscription: AllStreamSubscription; feed: OrderedFeed } | undefined;
  private stopped = false;
  private wakeFromPause: (() => void) | undefined;

  constructor(private readonly parts: EventStoreDbSubscriptionParts) {}

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionItem> {
    const { client, options, toStoredEvent, isDrop } = this.parts;
    const prefixes = options.filter?.streamPrefixes;
    const checkpoints = options.checkpoints === true;
    // -1 (the head of an empty ledger, a projection that applied nothing) is the beginning too.
    let last =
      options.fromPosition === undefined || options.fromPosition === 'start' || options.fromPosition < 0n
        ? undefined
        : options.fromPosition;
    let pause = RESUBSCRIBE_DELAY_MS;
    try {
      while (!this.stopped) {
        const feed = new OrderedFeed();
        const checkpointReached = (source: AllStreamSubscription, position: Position) =>
          feed.checkpointReached(source, position);
        const filter: Filter | undefined = checkpoints
          ? prefixes
            ? streamNameFilter({ prefixes, checkpointReached })
            : excludeSystemEvents({ checkpointReached })
          : prefixes
            ? streamNameFilter({ prefixes })
            : undefined;
        // Ledger events and checkpoints yielded have prepare = commit here, so this resumes strictly after.
        const subscription = client.subscribeToAll({
          fromPosition: last === undefined ? START : { commit: last, prepare: last },
          ...(filter ? { filter } : {}),
        });
        feed.attach(subscription);
        this.current = { subscription, feed };
        try {
          for (;;) {
            const delivered = await feed.next();
            if (delivered === ENDED) break;
            let item: SubscriptionItem | undefined;
            if (delivered.kind === 'event') {
              const event = toStoredEvent(delivered.resolved);
              const wanted =
                !prefixes || (event && prefixes.some((prefix) => event.stream.startsWith(prefix)));
              if (event && wanted && (last === undefined || event.position > last)) item = event;
            } else if (checkpoints) {
              const checkpoint = checkpointOf(delivered.position);
              if (checkpoint && (last === undefined || checkpoint.position > last)) item = checkpoint;
            }
            if (!item) continue;
            last = item.position;
            pause = RESUBSCRIBE_DELAY_MS;
            yield item;
            if (this.stopped) return;
          }
        } catch (error) {
          if (this.stopped) return;
          if (!isDrop(error) && !(error instanceof CancelledError)) throw error;
        } finally {
          this.current = undefined;
          await subscription.unsubscribe();
        }
        if (this.stopped) return;
        // Dropped, or ended without being asked to: subscribe again after a pause.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.wakeFromPause = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeFromPause = undefined;
        pause = Math.min(pause * 2, RESUBSCRIBE_MAX_DELAY_MS);
      }
    } finally {
      this.stopped = true;
      this.parts.onEnd(this);
    }
  }

  async unsubscribe(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeFromPause?.();
    const current = this.current;
    if (current) {
      current.feed.stop();
      await current.subscription.unsubscribe();
      // Ends the client's stream: the cancelled call does not end it by itself.
      current.subscription.destroy();
    }
    this.parts.onEnd(this);
  }
}

/**
 * The port's checkpoint at the server's commit position: the prepare position of a filtered checkpoint may
 * be 0 (or differ after an explicit transaction of another application), and a subscription resumed at
 * `{commit: c, prepare: c}` starts after the record at c, which the server had already looked at.
 */
function checkpointOf(position: Position): SubscriptionCheckpoint | null {
  if (position.commit < 0n || position.commit > MAX_LOG_POSITION) return null;
  return { kind: 'checkpoint', position: position.commit };
}
