/** A domain event as the decider sees it: a past-tense type and its data. Metadata lives outside. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
}

/** What every command carries besides its own fields: time and actor are inputs, never read inside decide. */
export interface CommandContext {
  /** ISO-8601 UTC business time of the fact (the command's occurredAt, default now). */
  occurredAt: string;
  /** ISO-8601 UTC ledger time. */
  now: string;
  actor: { kind: 'service' | 'agent' | 'system'; id: string; agentId?: string };
}

export interface Decider<State, Command, Event> {
  initialState: State;
  evolve(state: State, event: Event): State;
  /** Returns the events the command produces; an empty list means "already recorded, nothing changed". */
  decide(command: Command, state: State): Event[];
}

export function fold<State, Event>(
  decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>,
  events: Iterable<Event>,
): State {
  let state = decider.initialState;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
