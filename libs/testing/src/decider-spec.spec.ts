import { given, type DeciderUnderTest } from './decider-spec';

class Refused extends Error {
  constructor(readonly type: string) {
    super(type);
  }
}

type Event = { type: 'Added'; data: { n: number; note?: string } };
type Command = { type: 'Add'; n: number; note?: string };
type State = { total: number; history: number[] };

const counter: DeciderUnderTest<State, Command, Event> = {
  initialState: { total: 0, history: [] },
  evolve: (state, event) => ({
    total: state.total + event.data.n,
    history: [...state.history, event.data.n],
  }),
  decide: (command, state) => {
    if (command.n <= 0) throw new Refused('not-positive');
    if (state.history.includes(command.n)) return [];
    return [{ type: 'Added', data: { n: command.n, note: command.note } }];
  },
};
const added = (n: number): Event => ({ type: 'Added', data: { n } });

describe('decider given/when/then', () => {
  it('folds the history, checks the events and returns the state after them', () => {
    const spec = given(counter, [added(1)]);
    expect(spec.state).toEqual({ total: 1, history: [1] });
    expect(
      spec.when({ type: 'Add', n: 2, note: 'x' }).then([{ type: 'Added', data: { n: 2, note: 'x' } }]),
    ).toEqual({
      total: 3,
      history: [1, 2],
    });
    given(counter, [added(1)])
      .when({ type: 'Add', n: 1 })
      .thenNothing();
  });

  it('treats an undefined field as a difference', () => {
    expect(() =>
      given(counter)
        .when({ type: 'Add', n: 2 })
        .then([added(2)]),
    ).toThrow();
  });

  it('checks the error class and slug', () => {
    const error = given(counter).when({ type: 'Add', n: 0 }).thenThrows(Refused, 'not-positive');
    expect(error.type).toBe('not-positive');
    expect(() => given(counter).when({ type: 'Add', n: 0 }).thenThrows(Refused, 'other')).toThrow();
    expect(() => given(counter).when({ type: 'Add', n: 0 }).thenThrows(TypeError)).toThrow();
    expect(() => given(counter).when({ type: 'Add', n: 1, note: 'x' }).thenThrows(Refused)).toThrow();
  });

  it('fails a decider that mutates its state', () => {
    const mutating: DeciderUnderTest<State, Command, Event> = {
      ...counter,
      decide: (command, state) => {
        state.history.push(command.n);
        return [];
      },
    };
    expect(() => given(mutating).when({ type: 'Add', n: 1 }).thenNothing()).toThrow(TypeError);
  });
});
