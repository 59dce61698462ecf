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

export function asDomainEvent<Event extends DomainEvent>(stored: StoredEvent): Event {
  return { type: stored.type, data: stored.data } as Event;
}

/**
 * Per-process memory of folded aggregate states. Loading a stream reads only the events after the
 * remembered revision (usually none) from the store, so it stays correct when other processes append:
 * the store, never this cache, says what the stream holds. Entries are folded from stored events or from
 * the very events this process appended (plain JSON, stored as given), evicted least-recently-used beyond
 * `maxStreams`. Deciders' states are immutable values, so a
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
      for (const stored of newer) state = decider.evolve(state, asDomainEvent<Event>(stored));
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

  /**
   * Records what this process just appended after deciding on `from`: the same events, evolved in memory,
   * so that the next command on the stream finds nothing new to read. Ignored unless the entry is still the
   * state the decision was made on (another command may have moved it on meanwhile).
   */
  advance<State, Event extends DomainEvent>(
    stream: string,
    decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
    from: FoldedState<State>,
    appended: readonly Event[],
    position: bigint,
  ): void {
    const entry = this.entries.get(stream);
    const current = entry?.evolve === decider.evolve ? entry.folded : undefined;
    if (from.revision !== (current?.revision ?? -1)) return;
    let state = from.state;
    for (const event of appended) state = decider.evolve(state, event);
    this.entries.delete(stream);
    this.entries.set(stream, {
      evolve: decider.evolve,
      folded: { state, revision: from.revision + appended.length, position },
    });
    if (this.entries.size > this.maxStreams) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
