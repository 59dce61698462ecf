import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import {
  ALL_PROJECTIONS,
  PolledProjections,
  ProjectionsElsewhereError,
  ProjectorHost,
  UnknownProjectionError,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { openProjectedLedger, type ProjectedLedger } from '../support/projected-ledger';

const NAMES = ALL_PROJECTIONS.map((projection) => projection.name);

// The API's side when another process projects: its own connection to the file, reading checkpoints that
// a ProjectorHost on another connection commits (as apps/ledger-projector does from its process).
describe('PolledProjections (LEDGER_PROJECTIONS=external)', () => {
  let ledger: ProjectedLedger;
  let readerDb: Database;
  let polled: PolledProjections;

  beforeEach(async () => {
    ledger = await openProjectedLedger({ prefix: 'polled-projections-', seed: 7, events: 400 });
    readerDb = openSqlite(join(ledger.dir, 'ledger.db'));
    polled = await PolledProjections.start(
      new SqliteReadModelStore(readerDb),
      new SqliteEventStore(readerDb),
      ALL_PROJECTIONS,
      20,
    );
  });

  afterEach(async () => {
    await polled.stop();
    readerDb.close();
    await ledger.close();
  });

  it('reports the checkpoints another connection commits, and resolves the waits they satisfy', async () => {
    expect(polled.runsElsewhere).toBe(true);
    expect(polled.statuses().map(({ name, position, state }) => [name, position, state])).toEqual(
      NAMES.map((name) => [name, '-1', 'catching-up']),
    );

    const metricsMoves: bigint[] = [];
    polled.onAdvanced('metrics', (position) => metricsMoves.push(position));
    const waiting = polled.waitFor(ledger.head, NAMES, 60_000);
    await new ProjectorHost(ledger.eventStore, ledger.store, ALL_PROJECTIONS).catchUpAll();
    expect(await waiting).toBe(true);
    // What feeds the API's metrics snapshot: told of the move in the poll that saw it.
    expect(metricsMoves).toEqual([ledger.head]);

    const [last] = await ledger.eventStore.readAll({ fromPosition: ledger.head, maxCount: 1 });
    expect(polled.statuses()).toEqual(
      ALL_PROJECTIONS.map((projection) => ({
        name: projection.name,
        version: projection.version,
        state: 'live',
        position: ledger.head.toString(),
        lastRecordedAt: last.metadata.recordedAt,
        failure: null,
      })),
    );
  });

  it('lets a wait run out when nothing projects, and answers pending waits false when stopped', async () => {
    expect(await polled.waitFor(ledger.head, NAMES.slice(0, 1), 100)).toBe(false);
    const pending = polled.waitFor(ledger.head, NAMES, 60_000);
    await polled.stop();
    expect(await pending).toBe(false);
    expect(polled.statuses().every((status) => status.position === '-1')).toBe(true);
  });

  it('refuses retries and rebuilds, which belong to the process that projects', async () => {
    await expect(polled.retry('metrics')).rejects.toThrow(ProjectionsElsewhereError);
    await expect(polled.rebuild('metrics')).rejects.toThrow(/ledger rebuild/);
    expect(() => polled.rebuild('nope')).toThrow(UnknownProjectionError);
    expect(polled.rebuilds()).toEqual([]);
  });
});
