/**
 * npm run bench:queries — query latency over the read models of a ledger with 100,000 issues (default):
 * issue lists with filters, and issue timelines (issue + linked charges), through the HTTP API. The server
 * runs pinned to CPU 0, this client to CPU 1; requests are sent one at a time, so latency is the server's.
 *   BENCH_ISSUES=100000 BENCH_REQUESTS=2000 npm run bench:queries
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, SqliteEventStore, SqliteDigestStore } from '@app/event-store';
import { ALL_PROJECTIONS, ProjectorHost, MerkleTreeBuilder } from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from './support/ledger-history';
import { startBenchServer } from './support/bench-server';
import { percentile } from './support/percentile';

const ISSUES = Number(process.env.BENCH_ISSUES ?? 100_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
// About 7 events per issue and 5 per charge at this mix (20% charges).
const EVENTS = Math.round((ISSUES / 0.78) * 6.2);

async function main() {
  try {
    execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    process.stderr.write('taskset unavailable: server and client share cores\n');
  }
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-queries-'));
  const file = join(dir, 'ledger.db');
  try {
    const writer = SqliteEventStore.open(file);
    let last = 0;
    await appendLedgerHistory(
      writer,
      11,
      EVENTS,
      (count) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        process.stderr.write(`\rgenerating: ${count.toLocaleString('en')} events`);
      },
      { chargeShare: 0.2 },
    );
    await writer.close();
    const db = openSqlite(file);
    const store = new SqliteReadModelStore(db);
    const host = new ProjectorHost(new SqliteEventStore(db), store, ALL_PROJECTIONS);
    await store.ensureCollections(ALL_PROJECTIONS.flatMap((projection) => projection.collections));
    process.stderr.write('\nprojecting...\n');
    await host.catchUpAll();
    // The Merkle tree too, so that its catch-up in the server's tree thread does not compete with the
    // queries measured (the steady state: the tree follows within a batch of the head).
    await new MerkleTreeBuilder(new SqliteEventStore(db), new SqliteDigestStore(db)).catchUp();
    const issueIds = (
      db.prepare("SELECT substr(stream, 7) AS id FROM streams WHERE stream LIKE 'issue-%'").all() as {
        id: string;
      }[]
    ).map((row) => row.id);
    const customerIds = (
      db
        .prepare(
          "SELECT DISTINCT json_extract(data, '$.customerId') AS id FROM events WHERE type = 'IssueOpened' LIMIT 5000",
        )
        .all() as { id: string }[]
    ).map((row) => row.id);
    db.close();
    process.stderr.write(`${issueIds.length.toLocaleString('en')} issues projected\n`);

    const { child, port, key } = await startBenchServer('bench/servers/ledger.ts', { LEDGER_DATA_DIR: dir });
    try {
      const base = `http://127.0.0.1:${port}`;
      const headers = { authorization: `Bearer ${key}` };
      const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)];
      const lists = [
        () => `/issues?status=open&limit=50`,
        () =>
          `/issues?status=${pick(['open', 'resolved', 'closed'])}&category=${pick(['declined', 'delayed_refund', 'other'])}&limit=50`,
        () =>
          `/issues?channel=${pick(['phone', 'email', 'chat'])}&priority=${pick(['low', 'high', 'urgent'])}&limit=50`,
        () => `/issues?assigneeId=a-${Math.floor(Math.random() * 60)}&status=resolved&limit=50`,
        () => `/issues?customerId=${pick(customerIds)}`,
        () => `/issues?openedFrom=2025-03-01T00:00:00Z&openedTo=2025-03-08T00:00:00Z&limit=100`,
      ];
      const measure = async (name: string, path: () => string) => {
        const times: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          const started = process.hrtime.bigint();
          const res = await fetch(`${base}${path()}`, { headers });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`${name}: ${res.status}`);
          times.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
        times.sort((a, b) => a - b);
        return { name, p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1] };
      };
      await measure('warm-up', () => pick(lists)());
      const rows = [
        await measure('issue list with filters', () => pick(lists)()),
        await measure('issue timeline', () => `/issues/${pick(issueIds)}/timeline?limit=500`),
        await measure('issue summary', () => `/issues/${pick(issueIds)}`),
      ];
      console.log(
        `\n${issueIds.length.toLocaleString('en')} issues; ${REQUESTS} sequential requests per query kind`,
      );
      console.log(
        `${'query'.padEnd(28)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`,
      );
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(28)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${r.max.toFixed(1).padStart(9)}`,
        );
      }
      console.log(`target: p99 under 20 ms`);
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
