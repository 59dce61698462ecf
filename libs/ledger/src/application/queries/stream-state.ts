import { Inject, Injectable } from '@nestjs/common';
import type { Decider, DomainEvent } from '../../domain/shared/decider';
import { AggregateStateCache } from '../aggregate-state-cache';
import { EVENT_STORE, type EventStore } from '../ports/event-store.port';

export interface StreamState<State> {
  stream: string;
  state: State;
  /** -1 when the stream does not exist. */
  revision: number;
  position: string | null;
}

/**
 * Reads an aggregate's current state by folding its stream with the command side's `evolve`. The
 * summaries of GET /charges/:id etc. come from here until read models replace them.
 */
@Injectable()
export class StreamStateReader {
  constructor(
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    private readonly states: AggregateStateCache,
  ) {}

  async read<State, Event extends DomainEvent>(
    stream: string,
    decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
  ): Promise<StreamState<State>> {
    const { state, revision, position } = await this.states.load(this.eventStore, stream, decider);
    return { stream, state, revision, position: revision === -1 ? null : position.toString() };
  }
}
