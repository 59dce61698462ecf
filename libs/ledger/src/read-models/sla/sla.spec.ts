import { DEFAULT_SLA_TARGETS, issueSla, parseSlaTargets, slaState, SLA_STATES } from './sla';

const openedAt = '2026-01-01T00:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(openedAt) + minutes * 60_000);

describe('issue SLA (query time)', () => {
  it('is met or breached once the clock stopped, whatever asOf is', () => {
    const sla = issueSla(
      {
        priority: 'high',
        openedAt,
        firstResponseAt: at(120).toISOString(),
        firstResolvedAt: at(1441).toISOString(),
        settledAt: at(1441).toISOString(),
      },
      at(100_000),
    );
    expect(sla.firstResponse).toEqual({
      targetMinutes: 120,
      dueAt: at(120).toISOString(),
      state: 'met',
      elapsedMinutes: 120,
    });
    expect(sla.resolution.state).toBe('breached');
    expect(sla.resolution.elapsedMinutes).toBe(1441);
  });

  it.each([
    [383, 'on_track'],
    // Exactly 80% of 480 minutes is still on track: at risk is strictly more than 80%.
    [384, 'on_track'],
    [384 + 1 / 60_000, 'at_risk'],
    [480, 'at_risk'],
    [480 + 1 / 60_000, 'breached'],
  ])('a running normal first-response clock at %d minutes is %s', (minutes, state) => {
    const sla = issueSla(
      { priority: 'normal', openedAt, firstResponseAt: null, firstResolvedAt: null, settledAt: null },
      at(minutes),
    );
    expect(sla.firstResponse.state).toBe(state);
  });

  it.each([
    // [event, ended without it, asOf] in minutes from the start; target 60 minutes.
    [30, Number.NaN, 100, 'met'],
    [90, Number.NaN, 100, 'breached'],
    [90, Number.NaN, 80, 'breached'],
    [Number.NaN, 40, 100, 'stopped'],
    [Number.NaN, 70, 100, 'breached'],
    [Number.NaN, 40, 30, 'on_track'],
    [Number.NaN, 55, 49, 'at_risk'],
    // The event after the clock ended never counts; at the same instant it does.
    [50, 40, 100, 'stopped'],
    [40, 40, 100, 'met'],
    // Not yet happened at asOf: running.
    [50, Number.NaN, 20, 'on_track'],
    [Number.NaN, Number.NaN, 60, 'at_risk'],
  ])('event %d, ended %d, at %d minutes: %s', (event, ended, asOf, state) => {
    const minute = 60_000;
    expect(SLA_STATES[slaState(0, event * minute, ended * minute, 60, asOf * minute)]).toBe(state);
  });

  it('a withdrawn issue: both clocks end at the close', () => {
    const closed = at(60).toISOString();
    const sla = issueSla(
      { priority: 'normal', openedAt, firstResponseAt: null, firstResolvedAt: null, settledAt: closed },
      at(100_000),
    );
    expect(sla.firstResponse).toMatchObject({ state: 'stopped', elapsedMinutes: 60 });
    expect(sla.resolution).toMatchObject({ state: 'stopped', elapsedMinutes: 60 });
  });

  it('reads targets from JSON over the defaults and refuses bad entries', () => {
    const targets = parseSlaTargets('{"urgent":{"firstResponseMinutes":15}}');
    expect(targets.urgent).toEqual({ firstResponseMinutes: 15, resolutionMinutes: 480 });
    expect(targets.low).toEqual(DEFAULT_SLA_TARGETS.low);
    expect(parseSlaTargets(undefined)).toBe(DEFAULT_SLA_TARGETS);
    expect(() => parseSlaTargets('{"critical":{}}')).toThrow('unknown priority critical');
    expect(() => parseSlaTargets('{"low":{"resolutionMinutes":0}}')).toThrow('positive integer');
    expect(() => parseSlaTargets('{"low":{"minutes":5}}')).toThrow('unknown field low.minutes');
    expect(() => parseSlaTargets('[')).toThrow('not valid JSON');
  });
});
