/** `toISOString()`'s form, which the command API stores: such strings sort as their instants do. */
const isUtcIso = (at: string) => at.length === 24 && at.charCodeAt(23) === 90 /* Z */ && at[10] === 'T';

/** a - b in the order of instants: a string comparison for two UTC ISO strings, else parsed. */
export const compareInstants = (a: string, b: string): number =>
  isUtcIso(a) && isUtcIso(b) ? (a < b ? -1 : a > b ? 1 : 0) : Date.parse(a) - Date.parse(b);

/** The earlier of two instants (the candidate when there is none yet). */
export const earlierOf = (current: string | null, candidate: string): string =>
  current !== null && compareInstants(current, candidate) <= 0 ? current : candidate;

/** The later of two instants. */
export const laterOf = (current: string, candidate: string): string =>
  compareInstants(current, candidate) >= 0 ? current : candidate;
