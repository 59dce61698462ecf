/**
 * npm run bench:projections — a full rebuild of every read model over a generated ledger (default
 * 1,000,000 events of a realistic mix), beside a raw baseline measured in the same run: the same events
 * read from the store and written as plain rows in batched transactions.
 *
 * Each rebuild is the product's own command, `ledger rebuild all --json`, run as a child process on the
 * generated data directory: once with `--threads 1` and once with the default (two threads on a machine
 * with two cores or more). Its events/s and peak RSS are what that command reports for itself; the
 * baseline runs in this process before and after them, and the ratios are to the mean of the two.
 *   BENCH_EVENTS=1000000 npm run bench:projections
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { appendLedgerHistory } from './support/ledger-history';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BATCH = 5000;
const LEDGER_CLI = join(__dirname, '..', 'scripts', 'ledger.mjs');

const rate = (events: number, ms: number) => Math.round(events / (ms / 1000));
const count = (value: number) => value.toLocaleString('en');

/** Reads every event and writes it as a plain row, in transactions of BATCH rows: events/s. */
async function rawBaseline(file: string): Promise<number> {
  const db = openSqlite(file);
  const eventStore = new SqliteEventStore(db);
  try {
    db.exec('DROP TABLE IF EXISTS raw_copy');
    db.exec('CREATE TABLE raw_copy (position INTEGER PRIMARY KEY, stream TEXT, type TEXT, data TEXT)');
    const insert = db.prepare('INSERT INTO raw_copy (position, stream, type, data) VALUES (?, ?, ?, ?)');
    const writeRows = db.transaction((rows: Array<[number, string, string, string]>) => {
      for (const row of rows) insert.run(...row);
    });
    const started = Date.now();
    let position = 1n;
    let copied = 0;
    for (;;) {
      const events = await eventStore.readAll({ fromPosition: position, maxCount: BATCH });
      if (events.length === 0) break;
      writeRows(events.map((e) => [Number(e.position), e.stream, e.type, JSON.stringify(e.data)]));
      copied += events.length;
      position = events[events.length - 1].position + 1n;
    }
    const ms = Date.now() - started;
    db.exec('DROP TABLE raw_copy');
    process.stderr.write(`baseline: ${count(copied)} events in ${(ms / 1000).toFixed(1)} s\n`);
    return rate(copied, ms);
  } finally {
    await eventStore.close();
    db.close();
  }
}

interface RebuildAllReport {
  applied: number;
  seconds: number;
  eventsPerSecond: number;
  groups: string[][];
  groupSeconds: number[];
  peakRssMb: number;
}

/** `ledger rebuild all --json [--threads n]` in a child process; its progress bar goes to our stderr. */
function ledgerRebuildAll(dataDir: string, threads?: number): Promise<RebuildAllReport> {
  const args = [LEDGER_CLI, '--data-dir', dataDir, 'rebuild', 'all', '--json'];
  if (threads !== undefined) args.push('--threads', String(threads));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`ledger ${args.slice(1).join(' ')} exited with ${code}`));
      else resolve(JSON.parse(stdout) as RebuildAllReport);
    });
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-projections-'));
  const file = join(dir, 'ledger.db');
  try {
    const writer = SqliteEventStore.open(file);
    const started = Date.now();
    let lastReport = 0;
    const appended = await appendLedgerHistory(writer, 7, EVENTS, (appendedSoFar) => {
      if (Date.now() - lastReport < 1000) return;
      lastReport = Date.now();
      process.stderr.write(`\rgenerating: ${count(appendedSoFar)} events`);
    });
    await writer.close();
    process.stderr.write(
      `\rgenerated ${count(appended)} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );

    const before = await rawBaseline(file);
    process.stderr.write('ledger rebuild all --threads 1\n');
    const oneThread = await ledgerRebuildAll(dir, 1);
    process.stderr.write('ledger rebuild all (default threads)\n');
    const byDefault = await ledgerRebuildAll(dir);
    const after = await rawBaseline(file);
    const baseline = Math.round((before + after) / 2);

    const line = (label: string, report: RebuildAllReport) => {
      const eventsPerSecond = Math.round(report.eventsPerSecond);
      console.log(
        `${label.padEnd(38)} ${count(eventsPerSecond).padStart(9)} events/s  ` +
          `${((eventsPerSecond / baseline) * 100).toFixed(1).padStart(5)}% of the baseline  ` +
          `peak RSS ${report.peakRssMb} MB`,
      );
      report.groups.forEach((group, index) =>
        console.log(
          `  thread ${index + 1} done at ${report.groupSeconds[index].toFixed(1)} s: ${group.join(', ')}`,
        ),
      );
    };
    console.log(`\nledger of ${count(appended)} events (SQLite, ${dir})`);
    console.log(
      `raw baseline (read + plain rows):      ${count(baseline).padStart(9)} events/s  ` +
        `(${count(before)} before the rebuilds, ${count(after)} after)`,
    );
    line('ledger rebuild all --threads 1', oneThread);
    line(`ledger rebuild all (${byDefault.groups.length} threads, default)`, byDefault);
    console.log('targets: at least 50% of the baseline, peak RSS under 500 MB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
