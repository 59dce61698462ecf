/**
 * npm run bench:projections — a full rebuild of every read model over a generated ledger (default
 * 1,000,000 events of a realistic mix), beside a raw baseline measured in the same run: the same events
 * read from the store and written as plain rows in batched transactions. Prints events/s, the ratio, and
 * the peak RSS of this process (which does all of it).
 *   BENCH_EVENTS=1000000 npm run bench:projections
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { rebuildAllInParallel } from '../apps/ledger-api/src/projector/parallel-rebuild';
import { appendLedgerHistory } from './support/ledger-history';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BATCH = 5000;

const mb = (kilobytes: number) => `${Math.round(kilobytes / 1024)} MB`;
const rate = (events: number, ms: number) => Math.round(events / (ms / 1000));

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-projections-'));
  const file = join(dir, 'ledger.db');
  try {
    const writer = SqliteEventStore.open(file);
    let started = Date.now();
    let lastReport = 0;
    const appended = await appendLedgerHistory(writer, 7, EVENTS, (count) => {
      if (Date.now() - lastReport < 1000) return;
      lastReport = Date.now();
      process.stderr.write(`\rgenerating: ${count.toLocaleString('en')} events`);
    });
    await writer.close();
    process.stderr.write(
      `\rgenerated ${appended.toLocaleString('en')} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );

    const db = openSqlite(file);
    const eventStore = new SqliteEventStore(db);

    // Baseline: read every event and write it as a plain row, in transactions of BATCH rows.
    db.exec('CREATE TABLE raw_copy (position INTEGER PRIMARY KEY, stream TEXT, type TEXT, data TEXT)');
    const insert = db.prepare('INSERT INTO raw_copy (position, stream, type, data) VALUES (?, ?, ?, ?)');
    const writeRows = db.transaction((rows: Array<[number, string, string, string]>) => {
      for (const row of rows) insert.run(...row);
    });
    started = Date.now();
    let position = 1n;
    let copied = 0;
    for (;;) {
      const events = await eventStore.readAll({ fromPosition: position, maxCount: BATCH });
      if (events.length === 0) break;
      writeRows(events.map((e) => [Number(e.position), e.stream, e.type, JSON.stringify(e.data)]));
      copied += events.length;
      position = events[events.length - 1].position + 1n;
    }
    const baselineMs = Date.now() - started;
    db.exec('DROP TABLE raw_copy');
    process.stderr.write(
      `baseline: ${copied.toLocaleString('en')} events in ${(baselineMs / 1000).toFixed(1)} s\n`,
    );

    // The rebuild of every read model, as `ledger rebuild all` does it: one pass over the events, each
    // projection into fresh staged storage, then promoted.
    const store = new SqliteReadModelStore(db);
    await store.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
    const host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS);
    started = Date.now();
    const report = await host.rebuildAll((progress) => {
      if (Date.now() - lastReport < 1000) return;
      lastReport = Date.now();
      process.stderr.write(
        `\rrebuilding: ${progress.applied.toLocaleString('en')} events, ${progress.eventsPerSecond.toLocaleString('en')} events/s   `,
      );
    });
    const rebuildMs = Date.now() - started;
    process.stderr.write('\n');

    const rssOneThread = process.resourceUsage().maxRSS;

    // The same rebuild with the projections shared out between two threads (`ledger rebuild all --threads 2`).
    started = Date.now();
    const parallel = await rebuildAllInParallel({
      file,
      threads: 2,
      onProgress: (progress) => {
        if (Date.now() - lastReport < 1000) return;
        lastReport = Date.now();
        process.stderr.write(
          `\rrebuilding in 2 threads: ${progress.applied.toLocaleString('en')} events, ${progress.eventsPerSecond.toLocaleString('en')} events/s   `,
        );
      },
    });
    const parallelMs = Date.now() - started;
    process.stderr.write('\n');

    const rss = process.resourceUsage().maxRSS;
    console.log(`\nledger of ${copied.toLocaleString('en')} events (SQLite, ${dir})`);
    console.log(
      `raw baseline (read + plain rows):      ${rate(copied, baselineMs).toLocaleString('en').padStart(9)} events/s`,
    );
    const allRate = rate(report.applied, rebuildMs);
    console.log(
      `full rebuild, all ${ALL_PROJECTIONS.length} read models:       ${allRate.toLocaleString('en').padStart(9)} events/s (ledger events / wall time)`,
    );
    console.log(
      `ratio to the raw baseline: ${((allRate / rate(copied, baselineMs)) * 100).toFixed(1)}% (target >= 50%)`,
    );
    const parallelRate = rate(parallel.applied, parallelMs);
    console.log(
      `full rebuild in 2 threads (${parallel.groups.map((group) => group.join('+')).join(' | ')}): ` +
        `${parallelRate.toLocaleString('en')} events/s`,
    );
    console.log(
      `ratio to the raw baseline: ${((parallelRate / rate(copied, baselineMs)) * 100).toFixed(1)}%`,
    );
    console.log(`peak RSS up to the end of the one-thread rebuild: ${mb(rssOneThread)} (target < 500 MB)`);
    console.log(`peak RSS with the two-thread rebuild (three isolates): ${mb(rss)}`);
    await eventStore.close();
    await store.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
