/**
 * npm run bench:leases — standalone projectors sharing one embedded ledger through leases: two, then
 * three processes under a paced load of appended events, one of them killed with SIGKILL while commits
 * flow. Prints how long the takeover took and, per projection, its commits, how many holders committed
 * them, whether the committed ranges are contiguous and disjoint (from the commit log written in the
 * commit transactions), and how it compares with a rebuild from zero.
 *   BENCH_LOAD_EVENTS=20000 BENCH_LEASE_TTL_MS=5000 BENCH_LEASE_RENEW_MS=1500 npm run bench:leases
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLeaseScenario } from './support/lease-scenario';

const LOAD_EVENTS = Number(process.env.BENCH_LOAD_EVENTS ?? 20_000);
const TTL_MS = Number(process.env.BENCH_LEASE_TTL_MS ?? 5000);
const RENEW_MS = Number(process.env.BENCH_LEASE_RENEW_MS ?? 1500);

async function run(processes: number): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), `bench-leases-${processes}-`));
  try {
    console.log(`\n${processes} projector processes, lease TTL ${TTL_MS} ms, renewed every ${RENEW_MS} ms`);
    const result = await runLeaseScenario({
      dir,
      processes,
      initialEvents: 2000,
      loadEvents: LOAD_EVENTS,
      paceMs: 40,
      ttlMs: TTL_MS,
      renewMs: RENEW_MS,
      log: (line) => console.log(`  ${line}`),
    });
    console.log(`  takeover: ${result.takeoverMs} ms after the SIGKILL`);
    console.log(`  survivors exited with ${result.survivorExitCodes.join(', ')} on SIGTERM`);
    let ok = result.survivorExitCodes.every((code) => code === 0);
    for (const check of result.projections) {
      const fine = check.gap === null && check.lastTo === check.checkpoint && check.differences === 0;
      ok &&= fine;
      console.log(
        `  ${check.projection.padEnd(18)} ${String(check.commits).padStart(5)} commits by ${check.holders} ` +
          `holder(s), ranges ${check.gap === null ? 'contiguous and disjoint' : `broken at ${check.gap}`} ` +
          `up to ${check.lastTo} (checkpoint ${check.checkpoint}, head ${result.head}); ` +
          `${check.documents} documents, ${check.differences} differ from a rebuild from zero`,
      );
    }
    return ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let ok = true;
  for (const processes of [2, 3]) ok = (await run(processes)) && ok;
  console.log(ok ? '\nall checks passed' : '\nSOME CHECKS FAILED');
  if (!ok) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
