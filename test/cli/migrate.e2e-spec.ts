import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import { eventHash, type NewEvent } from '@app/ledger';
import { loadConfig, openLedger } from '@app/runtime';
import { ScriptedEsdbServer } from '../../libs/event-store/src/eventstoredb/testing/scripted-esdb-server';
import {
  buildSourceLedger,
  checkMigration,
  importedSoFar,
  runLedger,
  type SourceLedger,
} from '../../bench/support/migration-scenario';

// `ledger migrate` as a user runs it (a spawned CLI), over a few hundred events; bench:migrate runs the same
// scenario over 100,000 (docs/migration.md).

const EVENTS = 400;
/** Slow enough that the test sees the import under way and can interrupt it: 400 events take 4 s. */
const SLOW = ['--batch-size', '10', '--max-rate', '100'];

interface Report {
  events: { total: number; resumedFrom: number; imported: number };
  verified: { events: number; treeSize: number; digests: number; leavesComparedWithSource: number };
  copied: { table: string; rows: number; copied: number }[];
  signingKey: string;
  filesNotMoved: string[];
}

function count(file: string, sql = 'SELECT count(*) AS n FROM events'): number {
  const db = openSqlite(file, { readonly: true });
  try {
    return db.prepare<[], { n: number }>(sql).get()!.n;
  } finally {
    db.close();
  }
}

function withDb<T>(file: string, use: (db: Database) => T): T {
  const db = openSqlite(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** Every row of every read-model table, by table: what the projector built. */
function readModels(file: string): Record<string, unknown[]> {
  return withDb(file, (db) =>
    Object.fromEntries(
      db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'rm\\_%' ESCAPE '\\' " +
            "AND name NOT IN ('rm_checkpoints', 'rm_staged', 'rm_meta', 'rm_collections') ORDER BY name",
        )
        .all()
        .map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all()]),
    ),
  );
}

/** Starts the embedded ledger on a data dir, as `npm start` does, until its projector has applied every event. */
async function projectAll(dataDir: string): Promise<void> {
  const ledger = await openLedger(loadConfig({ LEDGER_DIGEST_INTERVAL_SECONDS: '0' }, { dataDir }));
  try {
    const head = await ledger.adapters.eventStore.headPosition();
    const control = ledger.adapters.projections;
    const names = control.statuses().map((status) => status.name);
    expect(names.length).toBeGreaterThan(0);
    expect(await control.waitFor(head, names, 60_000)).toBe(true);
  } finally {
    await ledger.close();
  }
}

describe('ledger migrate', () => {
  let root: string;
  let sourceDir: string;
  let source: SourceLedger;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ledger-migrate-'));
    sourceDir = join(root, 'source');
    source = await buildSourceLedger(sourceDir, { events: EVENTS, seed: 5 });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resumes after a SIGKILL in the middle of the import and ends with the same ledger', async () => {
    const targetDir = join(root, 'killed');
    const args = ['migrate', '--data-dir', sourceDir, '--to', targetDir, '--json'];
    let killedAfter = 0;
    const first = await runLedger([...args, ...SLOW], (stderr, kill) => {
      if (killedAfter === 0 && importedSoFar(stderr) >= 50) {
        killedAfter = importedSoFar(stderr);
        kill();
      }
    });
    expect(first.signal).toBe('SIGKILL');
    expect(first.stderr).toMatch(
      /importing events [\d,]+ \/ [\d,]+ \([\d.]+%\) {2}[\d,]+ events\/s {2}ETA \d+:\d\d/,
    );
    const held = count(join(targetDir, 'ledger.db'));
    expect(held).toBeGreaterThanOrEqual(killedAfter);
    expect(held).toBeLessThan(source.events);

    const second = await runLedger(args);
    expect(second.stderr).not.toContain('ledger:');
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as Report;
    expect(report.events).toMatchObject({
      total: source.events,
      resumedFrom: held,
      imported: source.events - held,
    });
    expect(report.verified).toEqual(
      expect.objectContaining({ events: source.events, treeSize: source.events, digests: 1 }),
    );
    // The source's own tree was built up to the digest it published: those leaves are compared too.
    expect(report.verified.leavesComparedWithSource).toBe(source.heldDigest.treeSize);
    expect(report.signingKey).toBe('copied');
    expect(Object.fromEntries(report.copied.map((table) => [table.table, table.rows]))).toEqual({
      api_keys: source.apiKeys,
      merkle_signing_key: 1,
      merkle_digests: 1,
      idempotency_fingerprint_key: 1,
      idempotency: source.idempotencyRecords,
    });

    const check = await checkMigration(sourceDir, targetDir, source.heldDigest);
    expect(check).toMatchObject({ events: source.events, leaves: source.events, heldDigestVerifies: true });

    // The target's read models are built by its projector at its first start, from its events alone,
    // and come out as the source's own projector builds them.
    await projectAll(targetDir);
    await projectAll(sourceDir);
    const rebuilt = readModels(join(targetDir, 'ledger.db'));
    expect(Object.keys(rebuilt).length).toBeGreaterThan(3);
    expect(rebuilt).toEqual(readModels(join(sourceDir, 'ledger.db')));

    // Done is done: the target is now a ledger of its own, and a third run only finds it equal.
    const again = await runLedger(args);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ events: { imported: 0, resumedFrom: source.events } });
  }, 180_000);

  it('moves the events to EventStoreDB (scripted gRPC server), resuming after the server stopped answering, and back', async () => {
    const server = await ScriptedEsdbServer.start();
    try {
      const toDataDir = join(root, 'esdb-data');
      const args = [
        'migrate',
        '--data-dir',
        sourceDir,
        '--to',
        server.connectionString,
        '--to-data-dir',
        toDataDir,
      ];
      let failedAfter = 0;
      const first = await runLedger([...args, ...SLOW], (stderr) => {
        if (failedAfter === 0 && importedSoFar(stderr) >= 50) {
          failedAfter = importedSoFar(stderr);
          // More failures than the adapter retries: the command stops with the outcome unknown.
          server.failNextAppends(
            'before-write',
            'before-write',
            'before-write',
            'before-write',
            'before-write',
          );
        }
      });
      expect(first.code).toBe(1);
      expect(first.stderr).toContain('EventStoreDB did not answer an import');
      const held = server.log.length;
      expect(held).toBeGreaterThanOrEqual(failedAfter);
      expect(held).toBeLessThan(source.events);

      const second = await runLedger([...args, '--json']);
      expect(second.code).toBe(0);
      const report = JSON.parse(second.stdout) as Report;
      expect(report.events).toMatchObject({ total: source.events, resumedFrom: held });
      expect(report.verified).toMatchObject({ events: source.events, treeSize: source.events, digests: 1 });

      // The server holds the source's canonical bytes, in the source's ledger order.
      const sourceEvents = withDb(join(sourceDir, 'ledger.db'), (db) =>
        db
          .prepare<[], { stream: string; canonical: string; hash: string }>(
            'SELECT stream, canonical, hash FROM events ORDER BY position',
          )
          .all(),
      );
      expect(server.log.map((record) => record.stream)).toEqual(sourceEvents.map((event) => event.stream));
      expect(server.log.map((record) => Buffer.from(record.data).toString('utf8'))).toEqual(
        sourceEvents.map((event) => event.canonical),
      );
      expect(server.log.every((record, index) => eventHash(record.data) === sourceEvents[index].hash)).toBe(
        true,
      );

      // An idempotency record names its event's position on the target: a log position of the server.
      const byEvent = new Map(server.log.map((record) => [record.id, record.position.toString()]));
      const [record] = withDb(join(toDataDir, 'ledger.db'), (db) =>
        db.prepare<[], { answer: string }>("SELECT answer FROM idempotency WHERE scope = 'scope-0'").all(),
      );
      const answer = JSON.parse(record.answer) as { stream: string; position: string };
      const eventId = withDb(join(sourceDir, 'ledger.db'), (db) =>
        db
          .prepare<[string], { event_id: string }>('SELECT event_id FROM events WHERE stream = ?')
          .get(answer.stream),
      )!.event_id;
      expect(answer.position).toBe(byEvent.get(eventId));

      // And back: the ledger on EventStoreDB (its events on the server, the rest in its data directory) to an
      // embedded one, which is the original again, positions in idempotency records included.
      const backDir = join(root, 'back');
      const back = await runLedger(
        ['migrate', '--data-dir', toDataDir, '--to', backDir, '--json'],
        undefined,
        {
          EVENTSTORE_CONNECTION_STRING: server.connectionString,
        },
      );
      expect(back.stderr).toContain('counting source events');
      expect(back.code).toBe(0);
      expect(JSON.parse(back.stdout)).toMatchObject({
        source: expect.stringContaining('EventStoreDB at 127.0.0.1'),
        events: { total: source.events, resumedFrom: 0 },
      });
      const check = await checkMigration(sourceDir, backDir, source.heldDigest);
      expect(check).toMatchObject({ events: source.events, leaves: source.events, heldDigestVerifies: true });
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('refuses, writing nothing, while the source is open elsewhere, for a non-empty target, and for tables it would leave behind', async () => {
    const inUse = openSqlite(join(sourceDir, 'ledger.db'));
    inUse.prepare('SELECT count(*) FROM events').get();
    try {
      const run = await runLedger(['migrate', '--data-dir', sourceDir, '--to', join(root, 'never')]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('is open in another process');
      expect(existsSync(join(root, 'never'))).toBe(false);
    } finally {
      inUse.close();
    }

    const otherDir = join(root, 'other');
    const other = SqliteEventStore.open(join(otherDir, 'ledger.db'));
    await other.append('issue-x', [note('unrelated')], 'no_stream');
    await other.close();
    const intoOther = await runLedger(['migrate', '--data-dir', sourceDir, '--to', otherDir]);
    expect(intoOther.code).toBe(1);
    expect(intoOther.stderr).toContain('not an interrupted migration of this source');
    expect(count(join(otherDir, 'ledger.db'))).toBe(1);

    const extraDir = join(root, 'extra');
    const extra = SqliteEventStore.open(join(extraDir, 'ledger.db'));
    await extra.append('issue-y', [note('mine')], 'no_stream');
    await extra.close();
    withDb(join(extraDir, 'ledger.db'), (db) => db.exec('CREATE TABLE custom_notes (id TEXT)'));
    const leftBehind = await runLedger([
      'migrate',
      '--data-dir',
      extraDir,
      '--to',
      join(root, 'extra-target'),
    ]);
    expect(leftBehind.code).toBe(1);
    expect(leftBehind.stderr).toContain('custom_notes');
    expect(existsSync(join(root, 'extra-target'))).toBe(false);

    const usage = await runLedger([
      'migrate',
      '--data-dir',
      sourceDir,
      '--to',
      'esdb://127.0.0.1:2113?tls=false',
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--to-data-dir is required');
  }, 120_000);

  it('needs LEDGER_SIGNING_KEY when the digests were signed with a configured key, and moves with it', async () => {
    const configuredDir = join(root, 'configured');
    const built = await buildSourceLedger(configuredDir, { events: 60, seed: 9 });
    // As if the API had signed with LEDGER_SIGNING_KEY: the key is not in the file.
    const pem = withDb(join(configuredDir, 'ledger.db'), (db) => {
      const row = db
        .prepare<[], { private_key_pem: string }>('SELECT private_key_pem FROM merkle_signing_key')
        .get()!;
      db.exec('DELETE FROM merkle_signing_key');
      return row.private_key_pem;
    });
    const args = ['migrate', '--data-dir', configuredDir, '--to', join(root, 'configured-target'), '--json'];
    const refused = await runLedger(args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('set LEDGER_SIGNING_KEY');
    expect(existsSync(join(root, 'configured-target'))).toBe(false);

    const moved = await runLedger(args, undefined, { LEDGER_SIGNING_KEY: pem });
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({
      signingKey: 'LEDGER_SIGNING_KEY',
      events: { total: built.events },
      verified: { digests: 1 },
    });
  }, 120_000);
});

function note(text: string): NewEvent {
  return {
    type: 'NoteAdded',
    schemaVersion: 1,
    data: { text },
    metadata: {
      eventId: crypto.randomUUID(),
      occurredAt: '2026-01-01T00:00:00.000Z',
      recordedAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'service', id: 'test' },
      correlationId: 'c',
      causationId: null,
      schemaVersion: 1,
    },
  };
}
