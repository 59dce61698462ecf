/**
 * npm run bench:kaplan-meier — the Kaplan–Meier estimate alone (sort, table, log-log band, the three
 * quantiles with their intervals, the curve thinned to 200 points), over log-normal durations like
 * resolution times: 15% censored, in milliseconds (nearly every duration distinct) or whole seconds (ties).
 *   BENCH_RUNS=50 npm run bench:kaplan-meier
 */
import { describeDurations } from '../libs/ledger/src/read-models/metrics/statistics/descriptive';
import { kaplanMeier } from '../libs/ledger/src/read-models/metrics/statistics/kaplan-meier';
import { percentile } from './support/percentile';
import { mulberry32 } from '@app/testing';

const RUNS = Number(process.env.BENCH_RUNS ?? 50);

function durations(n: number, wholeSeconds: boolean) {
  const random = mulberry32(n);
  const times = new Float64Array(n);
  const events = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const normal = Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
    const seconds = 30_000 * Math.exp(1.4 * normal);
    times[i] = wholeSeconds ? Math.round(seconds) : Math.round(seconds * 1000) / 1000;
    events[i] = random() < 0.85 ? 1 : 0;
  }
  return { times, events };
}

function measure(label: string, runs: number, work: () => unknown) {
  for (let i = 0; i < 5; i++) work();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    work();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  process.stdout.write(
    `${label.padEnd(44)} p50 ${percentile(samples, 50).toFixed(2).padStart(8)} ms   ` +
      `p99 ${percentile(samples, 99).toFixed(2).padStart(8)} ms   min ${samples[0].toFixed(2).padStart(8)} ms\n`,
  );
}

function main() {
  process.stdout.write(`Kaplan–Meier, ${RUNS} runs each after 5 warm-up runs (node ${process.version})\n`);
  for (const n of [1_000, 10_000, 100_000]) {
    for (const wholeSeconds of [false, true]) {
      const { times, events } = durations(n, wholeSeconds);
      measure(
        `${n.toLocaleString('en')} ${wholeSeconds ? 'whole seconds' : 'milliseconds'}, curve 200`,
        RUNS,
        () => kaplanMeier(times, events, 200),
      );
    }
  }
  const large = durations(100_000, false);
  measure('100,000 milliseconds, full curve (objects)', RUNS, () => kaplanMeier(large.times, large.events));
  measure('100,000 resolved-only mean/median/p90', RUNS, () => describeDurations(large.times));
  const million = durations(1_000_000, false);
  measure('1,000,000 milliseconds, curve 200', Math.max(5, Math.round(RUNS / 5)), () =>
    kaplanMeier(million.times, million.events, 200),
  );
}

main();
