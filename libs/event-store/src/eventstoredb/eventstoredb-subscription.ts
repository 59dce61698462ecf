import {
  CancelledError,
  START,
  streamNameFilter,
  type AllStreamSubscription,
  type EventStoreDBClient,
  type ResolvedEvent,
} from '@eventstore/db-client';
import type { StoredEvent, SubscribeToAllOptions, Subscription } from '@app/ledger';

/** Pause before subscribing again after a drop; doubled up to the maximum while drops go on. */
const RESUBSCRIBE_DELAY_MS = 50;
const RESUBSCRIBE_MAX_DELAY_MS = 2000;

export interface EventStoreDbSubscriptionParts {
  client: EventStoreDBClient;
  options: SubscribeToAllOptions;
  /** The adapter's reader: null for anything that is not a ledger event. */
  toStoredEvent: (resolved: ResolvedEvent) => StoredEvent | null;
  /** Errors after which subscribing again is right (the server went away), rather than ending. */
  isDrop: (error: unknown) => boolean;
  onEnd: (subscription: EventStoreDbSubscription) => void;
}

/**
 * subscribeToAll on EventStoreDB, events only (checkpoints are not yet part of the port). After a drop or an
 * unexpected end it subscribes again from the last delivered position and drops repeats, so every ledger
 * event after the start position is delivered once, in order.
 */
export class EventStoreDbSubscription implements Subscription {
  private current: AllStreamSubscription | undefined;
  private stopped = false;
  private wakeFromPause: (() => void) | undefined;

  constructor(private readonly parts: EventStoreDbSubscriptionParts) {}

  async *[Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    const { client, options, toStoredEvent, isDrop } = this.parts;
    const prefixes = options.filter?.streamPrefixes;
    let last =
      options.fromPosition === undefined || options.fromPosition === 'start'
        ? undefined
        : options.fromPosition;
    let pause = RESUBSCRIBE_DELAY_MS;
    try {
      while (!this.stopped) {
        // Positions of ledger events have prepare = commit, so this resumes strictly after the last one.
        const subscription = client.subscribeToAll({
          fromPosition: last === undefined ? START : { commit: last, prepare: last },
          ...(prefixes ? { filter: streamNameFilter({ prefixes }) } : {}),
        });
        this.current = subscription;
        try {
          for await (const resolved of subscription) {
            const event = toStoredEvent(resolved);
            if (!event || (last !== undefined && event.position <= last)) continue;
            if (prefixes && !prefixes.some((prefix) => event.stream.startsWith(prefix))) continue;
            last = event.position;
            pause = RESUBSCRIBE_DELAY_MS;
            yield event;
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
      await current.unsubscribe();
      // Ends a pending next(): the cancelled call does not end the client's stream by itself.
      current.destroy();
    }
    this.parts.onEnd(this);
  }
}
