import type { Decider, DomainEvent } from '../domain/shared/decider';
import type { EventStore, StoredEvent } from './ports/event-store.port';

/** An aggregate's state folded up to `revision` (-1: no stream), with the position of its last event. */
export interface FoldedState<State> {
  state: State;
  revision: number;
  position: bigint;
}

interface Entry {
  evolve: unknown;
  folded: FoldedState<unknown>;
}

const DEFAULT_MAX_STREAMS = 20_000;

export function toDomainEvent<Event extends DomainEvent>(stored: StoredEvent): Event {
  return { type: stored.type, data: stored.data } as Event;
}

/**
 * Per-process memory of folded aggregate states. Loading a stream reads only the events after the
 * remembered revision (usually none) from the store, so it stays correct when other processes append:
 * the store, never this cache, says what the stream holds. Entries are only ever built by folding stored
 * events, evicted least-recently-used beyond `maxStreams`. Deciders' states are immutable values, so a
 * cached state is never changed by a decision that was then refused.
 */
export class AggregateStateCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxStreams: number = DEFAULT_MAX_STREAMS) {}

  async load<State, Event extends DomainEvent>(
    eventStore: EventStore,
    stream: string,
    decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
  ): Promise<FoldedState<State>> {
    const entry = this.entries.get(stream);
    const known =
      entry && entry.evolve === decider.evolve
        ? (entry.folded as FoldedState<State>)
        : { state: decider.initialState, revision: -1, position: -1n };
    const newer = await eventStore.readStream(stream, { fromRevision: known.revision + 1 });
    let folded = known;
    if (newer.length > 0) {
      let state = known.state;
      for (const stored of newer) state = decider.evolve(state, toDomainEvent<Event>(stored));
      const last = newer[newer.length - 1];
      folded = { state, revision: last.revision, position: last.position };
    }
    // Re-inserting keeps the Map in least-recently-used order.
    this.entries.delete(stream);
    if (folded.revision >= 0) {
      this.entries.set(stream, { evolve: decider.evolve, folded });
      if (this.entries.size > this.maxStreams) this.entries.delete(this.entries.keys().next().value!);
    }
    return folded;
  }

  get size(): number {
    return this.entries.size;
  }
}
