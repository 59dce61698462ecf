import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@app/event-store';
import type { StoredEvent } from '@app/ledger';
import { EventStoreDbEventStore } from '../../libs/event-store/src/eventstoredb/eventstoredb-event-store';
import { ScriptedEsdbServer } from '../../libs/event-store/src/eventstoredb/testing/scripted-esdb-server';
import { ledgerCli as ledger, runLedgerCli } from '../support/ledger-cli';

async function allEvents(dataDir: string): Promise<StoredEvent[]> {
  const store = SqliteEventStore.open(join(dataDir, 'ledger.db'));
  try {
    return await store.readAll({ maxCount: 1_000_000 });
  } finally {
    await store.close();
  }
}

const tally = (values: string[]) =>
  values.reduce<Record<string, number>>((counts, value) => {
    counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  }, {});

describe('ledger demo', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-demo-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  let first: StoredEvent[];

  it('generates the streams of 50 issues through the command API', async () => {
    const run = await ledger(
      'demo',
      '--issues',
      '50',
      '--seed',
      '7',
      '--until',
      '2026-06-30',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ seed: 7, until: '2026-06-30T00:00:00.000Z', issues: 50, failed: 0 });
    expect(summary.eventsAppended).toBe(summary.commands);
    expect(summary).toMatchObject({ created: summary.commands, replayed: 0 });
    expect(run.stderr).toMatch(/demo \[#+\] 100% .* commands\/s/);

    first = await allEvents(dataDir);
    expect(first).toHaveLength(summary.commands);
    const streams = tally(
      [...new Set(first.map((event) => event.stream))].map((name) =>
        name.replace(/-demo7-cu\d+(-(is|ch)\d+)?$/, ''),
      ),
    );
    expect(streams.issue).toBe(50);
    expect(streams.charge).toBe(50);
    const types = tally(first.map((event) => event.type));
    expect(types.IssueOpened).toBe(50);
    expect(types.IssueAssigned).toBeGreaterThan(40);
    expect(types.CustomerContacted).toBeGreaterThan(50);
    expect(types.IssueResolved).toBeGreaterThan(35);
    expect(types.IssueResolved).toBeLessThan(60);
    expect(types.RefundRequested).toBeGreaterThan(0);
    // Every command went through the API: actor is the demo's API key, business time from the body.
    const actors = new Set(first.map((event) => event.metadata.actor.id));
    expect(actors.size).toBe(1);
    expect(first.every((event) => Date.parse(event.metadata.occurredAt) <= Date.parse('2026-06-30'))).toBe(
      true,
    );
    expect(first.every((event) => event.metadata.idempotencyKey?.startsWith('demo7-cu'))).toBe(true);
    // The key it keeps for re-runs is readable by the owner only.
    expect(statSync(join(dataDir, 'demo.json')).mode & 0o077).toBe(0);
    expect(JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8')).seeds).toEqual({
      '7': { until: '2026-06-30T00:00:00.000Z', keyId: first[0].metadata.actor.id },
    });
  });

  it('appends nothing when run again with the same seed (the recorded --until is reused)', async () => {
    const run = await ledger('demo', '--issues', '50', '--seed', '7', '--data-dir', dataDir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/50 issues, .* 0 events appended \(already generated\)/);
    expect(await allEvents(dataDir)).toHaveLength(first.length);
  });

  it('counts with --json what the re-run appended: nothing created, every answer replayed', async () => {
    const run = await ledger('demo', '--issues', '50', '--seed', '7', '--json', '--data-dir', dataDir);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ created: 0, unchanged: 0, failed: 0, eventsAppended: 0 });
    expect(summary.replayed).toBe(summary.commands);
    expect(await allEvents(dataDir)).toHaveLength(first.length);
  });

  it('refuses another --until for a seed already generated, and a future one', async () => {
    const other = await ledger(
      'demo',
      '--issues',
      '5',
      '--seed',
      '7',
      '--until',
      '2026-05-01',
      '--data-dir',
      dataDir,
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/Seed 7 was generated up to 2026-06-30T00:00:00.000Z/);
    const future = await ledger(
      'demo',
      '--issues',
      '5',
      '--seed',
      '9',
      '--until',
      '2999-01-01',
      '--data-dir',
      dataDir,
    );
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/must not be in the future/);
  });

  it('another seed adds a different workload beside the first', async () => {
    const run = await ledger(
      'demo',
      '--issues',
      '20',
      '--seed',
      '8',
      '--until',
      '2026-06-30',
      '--json',
      '--data-dir',
      dataDir,
    );
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.eventsAppended).toBeGreaterThan(0);
    const events = await allEvents(dataDir);
    const added = events.slice(first.length);
    expect(added).toHaveLength(summary.eventsAppended);
    expect(added.every((event) => event.stream.includes('-demo8-'))).toBe(true);
    expect(tally(added.map((event) => event.type)).IssueOpened).toBe(20);
  });

  it('refuses a seed whose API key was revoked, since its commands could no longer be replayed', async () => {
    const keyId = first[0].metadata.actor.id;
    expect((await ledger('keys', 'revoke', keyId, '--data-dir', dataDir)).code).toBe(0);
    const before = (await allEvents(dataDir)).length;
    const run = await ledger('demo', '--issues', '50', '--seed', '7', '--data-dir', dataDir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`Seed 7 was generated with API key ${keyId}`));
    expect(await allEvents(dataDir)).toHaveLength(before);
  });
});

// ScriptedEsdbServer is a test double of EventStoreDB's gRPC protocol (libs/event-store/src/eventstoredb/testing).
describe('ledger demo on EventStoreDB (scripted gRPC server double)', () => {
  let dataDir: string;
  let server: ScriptedEsdbServer;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-demo-esdb-'));
    server = await ScriptedEsdbServer.start();
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts the events it appended, though the server’s positions are log offsets shared with other streams', async () => {
    server.writeForeign('orders-1', 'OrderPlaced', { orderId: 'o-1' });
    const env = { EVENTSTORE_CONNECTION_STRING: server.connectionString, LEDGER_DATA_DIR: dataDir };
    const args = ['demo', '--issues', '5', '--seed', '3', '--until', '2026-06-30', '--json'];
    const run = await runLedgerCli(args, { env });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const store = EventStoreDbEventStore.fromConnectionString(server.connectionString);
    try {
      const events = await store.readAll({ maxCount: 100_000 });
      expect(events.length).toBeGreaterThan(5);
      expect(JSON.parse(run.stdout).eventsAppended).toBe(events.length);
    } finally {
      await store.close();
    }
  });
});
