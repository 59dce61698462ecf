const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const two = (value: number) => String(value).padStart(2, '0');

/**
 * A duration in seconds as people read it: `3d 04:12:05`, or `04:12:05` under a day. Rounded to the nearest
 * second (a quantile may end in .5, R's midpoint rule; the exact value stays in the number beside it).
 * `null` stays `null` (no value, e.g. a median never reached).
 */
export function humanizedDuration(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  const whole = Math.round(seconds);
  const days = Math.floor(whole / DAY);
  const clock = `${two(Math.floor((whole % DAY) / HOUR))}:${two(Math.floor((whole % HOUR) / MINUTE))}:${two(whole % MINUTE)}`;
  return days > 0 ? `${days}d ${clock}` : clock;
}
