import { Inject, Injectable } from '@nestjs/common';
import type { Decider, DomainEvent } from '../../domain/shared/decider';
import { fold } from '../../domain/shared/decider';
import { EVENT_STORE, type EventStore } from '../ports/event-store.port';
import { toDomainEvent } from '../commands/stream-command-runner';

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
  constructor(@Inject(EVENT_STORE) private readonly eventStore: EventStore) {}

  async read<State, Event extends DomainEvent>(
    stream: string,
    decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
  ): Promise<StreamState<State>> {
    const events = await this.eventStore.readStream(stream);
    const last = events.at(-1);
    return {
      stream,
      state: fold(
        decider,
        events.map((e) => toDomainEvent<Event>(e)),
      ),
      revision: last ? last.revision : -1,
      position: last ? last.position.toString() : null,
    };
  }
}
