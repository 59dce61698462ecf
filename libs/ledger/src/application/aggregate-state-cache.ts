import type { Decider, DomainEvent } from '../domain/shared/decider';
import type { EventMetadataInput, EventStore, StoredEvent } from './ports/event-store.port';

/** Where the last event of a command sent with an Idempotency-Key sits, and the request's fingerprint. */
export interface KeyedCommand {
  fingerprint: string;
  revision: number;
  position: bigint;
}

/**
 * An aggregate's state folded up to `revision` (-1: no stream), with the position of its last event, and
 * the commands of the stream that carried an Idempotency-Key, by scope.
 */
export interface FoldedState<State> {
  state: State;
  revision: number;
  position: bigint;
  keyed: ReadonlyMap<string, KeyedCommand>;
}

const NO_KEYED_COMMANDS: ReadonlyMap<string, KeyedCommand> = new Map();

/** `keyed` with the command of these events added, if they carry a scope; a new map, never the same one. */
function withKeyed(
  keyed: ReadonlyMap<string, KeyedCommand>,
  events: readonly { metadata: Pick<EventMetadataInput, 'idempotencyScope' | 'requestFingerprint'> }[],
  firstRevision: number,
  lastPosition: (index: number) => bigint,
): ReadonlyMap<string, KeyedCommand> {
  let added: Map<string, KeyedCommand> | undefined;
  events.forEach(({ metadata }, index) => {
    if (metadata.idempotencyScope === undefined || metadata.requestFingerprint === undefined) return;
    added ??= new Map(keyed);
    // A command's events share its scope: the last one is what its answer names.
    added.set(metadata.idempotencyScope, {
      fingerprint: metadata.requestFingerprint,
      revision: firstRevision + index,
      position: lastPosition(index),
    });
  });
  return added ?? keyed;
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
        : { state: decider.initialState, revision: -1, position: -1n, keyed: NO_KEYED_COMMANDS };
    const newer = await eventStore.readStream(stream, { fromRevision: known.revision + 1 });
    let folded = known;
    if (newer.length > 0) {
      let state = known.state;
      for (const stored of newer) state = decider.evolve(state, asDomainEvent<Event>(stored));
      const last = newer[newer.length - 1];
      const keyed = withKeyed(known.keyed, newer, newer[0].revision, (index) => newer[index].position);
      folded = { state, revision: last.revision, position: last.position, keyed };
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
   * state the decision was made on (another command may have moved it on meanwhile). `metadata` is that of
   * the appended events, whose idempotency scope the entry remembers.
   */
  advance<State, Event extends DomainEvent>(
    stream: string,
    decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
    from: FoldedState<State>,
    appended: readonly Event[],
    position: bigint,
    metadata: readonly Pick<EventMetadataInput, 'idempotencyScope' | 'requestFingerprint'>[] = [],
  ): void {
    const entry = this.entries.get(stream);
    const current = entry?.evolve === decider.evolve ? entry.folded : undefined;
    if (from.revision !== (current?.revision ?? -1)) return;
    let state = from.state;
    for (const event of appended) state = decider.evolve(state, event);
    this.entries.delete(stream);
    this.entries.set(stream, {
      evolve: decider.evolve,
      folded: {
        state,
        revision: from.revision + appended.length,
        position,
        // The appended events share one scope: the entry names the last of them, at `position`.
        keyed: withKeyed(
          from.keyed,
          metadata.map((entry) => ({ metadata: entry })),
          from.revision + 1,
          () => position,
        ),
      },
    });
    if (this.entries.size > this.maxStreams) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
