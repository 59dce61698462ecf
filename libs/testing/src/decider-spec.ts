/** The decider shape, restated so the testing library does not reach into the ledger's internals. */
export interface DeciderUnderTest<State, Command, Event> {
  initialState: State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[];
}

// Abstract so DomainError itself can be named; never[] so any constructor signature fits.
export type ErrorClass<E extends Error = Error> = abstract new (...args: never[]) => E;

export interface DeciderWhen<State, Event> {
  /** Asserts the exact events (strict: an `undefined` field is a difference) and returns the state after them. */
  then(expected: Event[]): State;
  /** Asserts the command is a repeat that changes nothing. */
  thenNothing(): State;
  /** Asserts the decision throws an instance of `errorClass`, with that `type` slug when given. */
  thenThrows<E extends Error>(errorClass: ErrorClass<E>, type?: string): E;
}

export interface DeciderGiven<State, Command, Event> {
  /** The state folded from the given events. */
  readonly state: State;
  when(command: Command): DeciderWhen<State, Event>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const field of Object.values(value)) deepFreeze(field);
  }
  return value;
}

// Inputs are frozen, so a decider that mutates its state, command or events fails loudly in specs.
function foldFrozen<State, Event>(
  decider: DeciderUnderTest<State, unknown, Event>,
  state: State,
  events: readonly Event[],
): State {
  let current = deepFreeze(state);
  for (const event of events)
    current = deepFreeze(decider.evolve(current, deepFreeze(structuredClone(event))));
  return current;
}

/**
 * given(decider, history).when(command).then(events) | .thenNothing() | .thenThrows(ErrorClass, type).
 * Besides the answer it checks that the events are plain JSON (they are hashed as JSON), that deciding
 * twice gives the same answer (no clock or randomness inside), and that evolve accepts what decide produced.
 */
export function given<State, Command, Event>(
  decider: DeciderUnderTest<State, Command, Event>,
  events: readonly Event[] = [],
): DeciderGiven<State, Command, Event> {
  const state = foldFrozen(decider, decider.initialState, events);
  return {
    state,
    when(command: Command): DeciderWhen<State, Event> {
      const frozenCommand = deepFreeze(structuredClone(command));
      const decide = () => decider.decide(frozenCommand, state);
      const then = (expected: Event[]): State => {
        const actual = decide();
        expect(actual).toStrictEqual(expected);
        expect(JSON.parse(JSON.stringify(actual))).toStrictEqual(actual);
        expect(decide()).toStrictEqual(actual);
        return foldFrozen(decider, state, actual);
      };
      return {
        then,
        thenNothing: () => then([]),
        thenThrows<E extends Error>(errorClass: ErrorClass<E>, type?: string): E {
          let thrown: unknown;
          try {
            decide();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(errorClass);
          if (type !== undefined) expect((thrown as { type?: unknown }).type).toBe(type);
          return thrown as E;
        },
      };
    },
  };
}
