/**
 * npm run bench:migrate — `ledger migrate` between two embedded ledgers (default 100,000 events), as a user
 * runs it: a source built as a running ledger leaves one (history, API keys, signing key, a digest published
 * at nine tenths, keyed commands), the command killed with SIGKILL part way through the import, run again
 * to resume, then checked from the files: every event, stream head, leaf and copied row equal, and the
 * digest published before the move proven against the target (inclusion, consistency to a new digest).
 *   BENCH_EVENTS=100000 BENCH_KILL_AT=0.4 npm run bench:migrate
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '@app/event-store';
import { buildSourceLedger, checkMigration, importedSoFar, runLedger } from './support/migration-scenario';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const KILL_AT = Number(process.env.BENCH_KILL_AT ?? 0.4);

function countEvents(dataDir: string): number {
  const db = openSqlite(join(dataDir, 'ledger.db'), { readonly: true });
  try {
    return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
  } finally {
    db.close();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-migrate-'));
  const sourceDir = join(root, 'source');
  const targetDir = join(root, 'target');
  try {
    const built = Date.now();
    const source = await buildSourceLedger(sourceDir, {
      events: EVENTS,
      seed: 18,
      onProgress: (n) => process.stderr.write(`\rsource: ${n.toLocaleString('en')} events   `),
    });
    process.stderr.write('\n');
    console.log(
      `source: ${source.events.toLocaleString('en')} events, ${source.apiKeys} API keys, ` +
        `${source.idempotencyRecords} idempotency records, digest held at tree size ${source.heldDigest.treeSize} ` +
        `(built in ${((Date.now() - built) / 1000).toFixed(1)} s)`,
    );

    const args = ['migrate', '--data-dir', sourceDir, '--to', targetDir, '--json'];
    let killedAt = 0;
    const first = await runLedger(args, (stderr, kill) => {
      const done = importedSoFar(stderr);
      if (killedAt === 0 && done >= source.events * KILL_AT) {
        killedAt = done;
        kill();
      }
    });
    const held = countEvents(targetDir);
    console.log(
      `first run: ${first.signal ?? `exit ${first.code}`} after ${killedAt.toLocaleString('en')} events reported; ` +
        `the target holds ${held.toLocaleString('en')}`,
    );
    if (first.signal !== 'SIGKILL' || held >= source.events)
      throw new Error('the first run was not interrupted');

    const resumedAt = Date.now();
    const second = await runLedger(args);
    const resumedWall = (Date.now() - resumedAt) / 1000;
    if (second.code !== 0) throw new Error(`the resumed run failed:\n${second.stderr}`);
    const report = JSON.parse(second.stdout) as {
      events: {
        total: number;
        resumedFrom: number;
        imported: number;
        seconds: number;
        eventsPerSecond: number;
      };
      verified: { events: number; treeSize: number; digests: number; leavesComparedWithSource: number };
    };
    console.log(
      `resumed run: ${report.events.imported.toLocaleString('en')} events imported after ` +
        `${report.events.resumedFrom.toLocaleString('en')} in ${report.events.seconds} s: ` +
        `${report.events.eventsPerSecond.toLocaleString('en')} events/s; the whole command (import, comparison, ` +
        `Merkle tree, digest checks, start-up) ${resumedWall.toFixed(1)} s`,
    );
    const lines = second.stderr.split('\n').map((line) => line.split('\r').filter(Boolean).at(-1)?.trim());
    console.log(`its last progress lines:\n  ${lines.filter(Boolean).join('\n  ')}`);

    const wholeAt = Date.now();
    const whole = await runLedger([
      'migrate',
      '--data-dir',
      sourceDir,
      '--to',
      join(root, 'whole'),
      '--json',
    ]);
    const wholeWall = (Date.now() - wholeAt) / 1000;
    if (whole.code !== 0) throw new Error(`the uninterrupted run failed:\n${whole.stderr}`);
    const uninterrupted = JSON.parse(whole.stdout) as typeof report;
    console.log(
      `uninterrupted run to another directory: ${uninterrupted.events.imported.toLocaleString('en')} events in ` +
        `${uninterrupted.events.seconds} s: ${uninterrupted.events.eventsPerSecond.toLocaleString('en')} events/s; ` +
        `the whole command ${wholeWall.toFixed(1)} s`,
    );

    const check = await checkMigration(sourceDir, targetDir, source.heldDigest);
    console.log(
      `checked from the files: ${check.events.toLocaleString('en')} events and ${check.streams.toLocaleString('en')} ` +
        `stream heads equal, ${check.leaves.toLocaleString('en')} leaves equal, copied rows equal ` +
        `${JSON.stringify(check.copied)}; digest of tree size ${source.heldDigest.treeSize} signed before the move ` +
        `${check.heldDigestVerifies ? 'verifies' : 'DOES NOT verify'} against the target (inclusion of 3 events, ` +
        `consistency to its new digest of tree size ${check.newDigest.treeSize})`,
    );
    if (!check.heldDigestVerifies || check.events !== source.events) process.exitCode = 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
