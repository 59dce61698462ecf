import { humanizedDuration } from './humanized-duration';

describe('humanizedDuration', () => {
  it.each([
    [0, '00:00:00'],
    [59.4, '00:00:59'],
    [59.5, '00:01:00'],
    [3600, '01:00:00'],
    [86_399, '23:59:59'],
    [86_400, '1d 00:00:00'],
    [274_325, '3d 04:12:05'],
    // The midpoint rule's .5 (a quantile on demo data): rounded for reading.
    [699_326.5, '8d 02:15:27'],
    [400 * 86_400 + 1, '400d 00:00:01'],
  ])('%d s reads %s', (seconds, text) => {
    expect(humanizedDuration(seconds)).toBe(text);
  });

  it('has no reading for no value', () => {
    expect(humanizedDuration(null)).toBeNull();
    expect(humanizedDuration(Number.NaN)).toBeNull();
  });
});
