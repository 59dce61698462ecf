import { instantBefore, isPeriodBound, parseNegativeDuration, periodBound } from './relative-period';

const at = (iso: string) => Date.parse(iso);

describe('relative period bounds', () => {
  it('parses negative ISO 8601 durations, whole numbers only', () => {
    expect(parseNegativeDuration('-P1Y2M3W4DT5H6M7S')).toEqual({
      years: 1,
      months: 2,
      weeks: 3,
      days: 4,
      hours: 5,
      minutes: 6,
      seconds: 7,
    });
    for (const text of ['P30D', '-P', '-PT', '-P1.5D', '-P1D2Y', '-30D', '-p30d', '-P1234567D', ' -P1D']) {
      expect(parseNegativeDuration(text)).toBeNull();
    }
  });

  it('counts calendar months back, clamped to the month end, and fixed days and times', () => {
    const back = (from: string, text: string) =>
      new Date(instantBefore(at(from), parseNegativeDuration(text)!)).toISOString();
    expect(back('2026-03-31T10:00:00Z', '-P1M')).toBe('2026-02-28T10:00:00.000Z');
    expect(back('2028-03-31T10:00:00Z', '-P1M')).toBe('2028-02-29T10:00:00.000Z');
    expect(back('2026-01-15T00:00:00Z', '-P2M')).toBe('2025-11-15T00:00:00.000Z');
    expect(back('2028-02-29T00:00:00Z', '-P1Y')).toBe('2027-02-28T00:00:00.000Z');
    expect(back('2026-06-01T00:00:00Z', '-P30D')).toBe('2026-05-02T00:00:00.000Z');
    expect(back('2026-06-01T00:00:00Z', '-PT90M')).toBe('2026-05-31T22:30:00.000Z');
    expect(back('2026-06-01T00:00:00Z', '-P0D')).toBe('2026-06-01T00:00:00.000Z');
  });

  it('takes an instant as it is, and a duration back from asOf', () => {
    expect(isPeriodBound('2026-05-01T00:00:00Z')).toBe(true);
    expect(isPeriodBound('-P1W')).toBe(true);
    expect(isPeriodBound('2026-W10')).toBe(false);
    expect(periodBound('2026-05-01T00:00:00Z', 0)).toBe(at('2026-05-01T00:00:00Z'));
    expect(periodBound('-P1W', at('2026-05-08T00:00:00Z'))).toBe(at('2026-05-01T00:00:00Z'));
    expect(periodBound('-P300000Y', at('2026-05-08T00:00:00Z'))).toBeNaN();
  });
});
