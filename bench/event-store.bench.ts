/**
 * node scripts/run-ts.mjs bench/event-store.bench.ts — durable append throughput of the SQLite event store
 * (synchronous=FULL) with one event per append: sequential appends (one transaction each) against N
 * concurrent appenders whose appends are group-committed.
 *   BENCH_SECONDS=3 BENCH_WRITERS=1,10,50,200 node scripts/run-ts.mjs bench/event-store.bench.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '@app/ledger';
import { SqliteEventStore } from '@app/event-store';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WRITERS = (process.env.BENCH_WRITERS ?? '1,10,50,200').split(',').map(Number);

function newEvent(index: number): NewEvent {
  const now = new Date().toISOString();
  return {
    type: 'NoteAdded',
    schemaVersion: 1,
    data: { issueId: 'iss_1', text: 'Customer called about a declined charge', index },
    metadata: {
      eventId: randomUUID(),
      occurredAt: now,
      recordedAt: now,
      actor: { kind: 'agent', id: 'key_bench', agentId: 'agent_1' },
      correlationId: randomUUID(),
      causationId: null,
      schemaVersion: 1,
    },
  };
}

async function run(writers: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'event-store-bench-'));
  const store = SqliteEventStore.open(join(dir, 'ledger.db'));
  const deadline = Date.now() + SECONDS * 1000;
  let appended = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const stream = `issue-bench${writer}`;
      for (let revision = -1; Date.now() < deadline; revision++) {
        await store.append(stream, [newEvent(appended)], revision === -1 ? 'no_stream' : revision);
        appended++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { commits } = store.stats;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const label = writers === 1 ? '1 writer (one transaction per append)' : `${writers} concurrent writers`;
  console.log(
    `${label.padEnd(40)} ${Math.round(appended / seconds)
      .toLocaleString('en')
      .padStart(8)} events/s  ` + `${(appended / commits).toFixed(1).padStart(6)} appends/commit`,
  );
}

async function main(): Promise<void> {
  console.log(`SQLite event store, WAL + synchronous=FULL, 1 event per append, ${SECONDS} s per run`);
  for (const writers of WRITERS) await run(writers);
}

void main();
