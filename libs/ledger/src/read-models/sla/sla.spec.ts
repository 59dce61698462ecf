import { DEFAULT_SLA_TARGETS, issueSla, parseSlaTargets } from './sla';

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
    [384, 'at_risk'],
    [480, 'at_risk'],
    [481, 'breached'],
  ])('a running normal first-response clock at %i minutes is %s', (minutes, state) => {
    const sla = issueSla(
      { priority: 'normal', openedAt, firstResponseAt: null, firstResolvedAt: null },
      at(minutes),
    );
    expect(sla.firstResponse.state).toBe(state);
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
