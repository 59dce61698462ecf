import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, SqliteVerificationSource } from '@app/event-store';
import {
  EventStoreVerificationSource,
  verifyLedger,
  ZERO_HASH,
  type NewEvent,
  scannedEvent,
  type RawEventRow,
  type VerificationSource,
} from '@app/ledger';
import { Tamper } from '../support/tamper';

const STREAMS = ['charge-a', 'issue-b', 'customer-c'];
const PER_STREAM = 5;

function note(stream: string, revision: number): NewEvent {
  return {
    type: 'NoteAdded',
    schemaVersion: 1,
    data: { issueId: stream, text: `note ${revision} é`, amount: 100 * revision },
    metadata: {
      eventId: randomUUID(),
      occurredAt: `2026-01-01T00:00:0${revision}.000Z`,
      recordedAt: `2026-01-01T00:00:0${revision}.500Z`,
      actor: { kind: 'agent', id: 'key1', agentId: 'a-1' },
      correlationId: 'corr',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

/** 3 streams x 5 events, interleaved: positions 1..15, stream s revision r at position 3r + s + 1. */
async function ledger(): Promise<{ file: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  const file = join(dir, 'ledger.db');
  const store = SqliteEventStore.open(file);
  for (let revision = 0; revision < PER_STREAM; revision++) {
    for (const stream of STREAMS) {
      await store.append(stream, [note(stream, revision)], revision === 0 ? 'no_stream' : revision - 1);
    }
  }
  await store.close();
  return { file, dir };
}

const positionOf = (stream: string, revision: number) => String(3 * revision + STREAMS.indexOf(stream) + 1);

describe.each([
  ['checked in this thread', { threads: 0 }],
  ['checked by two threads', { threads: 2, parallelThreshold: 0 }],
  ['checked by one thread', { threads: 1, parallelThreshold: 0 }],
] as const)('verifyLedger over a tampered SQLite file, events %s', (_mode, sourceOptions) => {
  let dir: string;
  let file: string;
  let source: VerificationSource;
  beforeEach(async () => {
    ({ file, dir } = await ledger());
    source = new SqliteVerificationSource(file, sourceOptions);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts an intact ledger, whole or one stream, and reports progress', async () => {
    const progress: number[] = [];
    const report = await verifyLedger(source, { onProgress: (p) => progress.push(p.checked) });
    expect(report).toMatchObject({
      ok: true,
      checkingThreads: sourceOptions.threads,
      checked: 15,
      streams: 3,
      firstBroken: null,
      breakCount: 0,
      headsChecked: true,
    });
    expect(await verifyLedger(source, { stream: 'issue-b' })).toMatchObject({
      ok: true,
      checked: 5,
      streams: 1,
    });
    expect(await verifyLedger(source, { stream: 'issue-zzz' })).toMatchObject({ ok: true, checked: 0 });
  });

  it('changed data: names the event, data-mismatch', async () => {
    await Tamper.on(file, (t) => t.changeData('charge-a', 2, (data) => (data.amount = 1)));
    const report = await verifyLedger(source);
    expect(report.ok).toBe(false);
    // A thread found the broken event: the scan was done again in one thread to name it.
    expect(report.checkingThreads).toBe(0);
    expect(report.firstBroken).toMatchObject({
      stream: 'charge-a',
      revision: 2,
      position: positionOf('charge-a', 2),
      reason: 'data-mismatch',
    });
    expect(report.breakCount).toBe(1);
    expect(report.checked).toBe(15);
  });

  it('changed metadata: metadata-mismatch naming the member', async () => {
    await Tamper.on(file, (t) =>
      t.changeMetadata('issue-b', 1, (m) => (m.occurredAt = '2020-01-01T00:00:00.000Z')),
    );
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({ stream: 'issue-b', revision: 1, reason: 'metadata-mismatch' });
    expect(report.firstBroken!.detail).toContain('occurredAt');
    expect(report.breakCount).toBe(1);
  });

  it('changed metadata hash member: metadata-mismatch', async () => {
    await Tamper.on(file, (t) => t.changeMetadata('issue-b', 3, (m) => (m.hash = 'a'.repeat(64))));
    expect((await verifyLedger(source)).firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 3,
      reason: 'metadata-mismatch',
    });
  });

  it('changed envelope column: envelope-mismatch', async () => {
    await Tamper.on(file, (t) => {
      const row = t.row('customer-c', 2);
      t['db'].prepare("UPDATE events SET type = 'IssueClosed' WHERE position = ?").run(row.position);
    });
    expect((await verifyLedger(source)).firstBroken).toMatchObject({
      stream: 'customer-c',
      revision: 2,
      reason: 'envelope-mismatch',
    });
  });

  it('changed canonical bytes: canonical-changed', async () => {
    await Tamper.on(file, (t) => t.changeCanonical('charge-a', 4, '"amount":400', '"amount":4'));
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({
      stream: 'charge-a',
      revision: 4,
      reason: 'canonical-changed',
    });
    expect(report.breakCount).toBe(1);
  });

  it('an event rewritten with fresh hashes: prev-hash-mismatch at the next event', async () => {
    await Tamper.on(file, (t) => t.rewrite('issue-b', 2, (data) => (data.text = 'forged')));
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 3,
      reason: 'prev-hash-mismatch',
    });
    expect(report.breakCount).toBe(1);
  });

  it('the last event rewritten with fresh hashes: the stream head says so', async () => {
    await Tamper.on(file, (t) => t.rewrite('issue-b', 4, (data) => (data.text = 'forged')));
    expect((await verifyLedger(source)).firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 4,
      position: positionOf('issue-b', 4),
      reason: 'stream-head-hash-mismatch',
    });
  });

  it('a removed event: revision-gap naming the missing revision and its position', async () => {
    await Tamper.on(file, (t) => t.remove('customer-c', 1));
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({
      stream: 'customer-c',
      revision: 1,
      position: positionOf('customer-c', 1),
      reason: 'revision-gap',
    });
    // Every remaining event is intact itself, so the threads' result stands (no second scan).
    expect(report.checkingThreads).toBe(sourceOptions.threads);
    expect(report.breakCount).toBe(1);
    expect(report.checked).toBe(14);
    // One stream alone: no positions to lean on, the gap is still named.
    expect((await verifyLedger(source, { stream: 'customer-c' })).firstBroken).toMatchObject({
      stream: 'customer-c',
      revision: 1,
      reason: 'revision-gap',
    });
  });

  it('a removed tail: stream-head-beyond-events with the removed position', async () => {
    await Tamper.on(file, (t) => t.remove('charge-a', 4));
    expect((await verifyLedger(source)).firstBroken).toMatchObject({
      stream: 'charge-a',
      revision: 4,
      position: positionOf('charge-a', 4),
      reason: 'stream-head-beyond-events',
    });
  });

  it('a removed tail with the head rewritten too: position-gap', async () => {
    await Tamper.on(file, (t) => {
      const removed = t.remove('charge-a', 4);
      const previous = t.row('charge-a', 3);
      t['db']
        .prepare('UPDATE streams SET revision = 3, last_hash = ?, last_position = ? WHERE stream = ?')
        .run(previous.hash, previous.position, 'charge-a');
      return removed;
    });
    expect((await verifyLedger(source)).firstBroken).toMatchObject({
      stream: null,
      position: positionOf('charge-a', 4),
      reason: 'position-gap',
    });
  });

  it('reordered events: revision-reordered at the first one out of place', async () => {
    await Tamper.on(file, (t) => t.swapPositions(t.row('issue-b', 1), t.row('issue-b', 2)));
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 2,
      position: positionOf('issue-b', 1),
      reason: 'revision-reordered',
    });
    expect(report.firstBroken!.detail).toContain('chain is intact in revision order');
    expect(report.breakCount).toBe(1);
  });

  it('an inserted event whose prevHash does not chain: prev-hash-mismatch', async () => {
    const forged = await Tamper.on(file, (t) => t.insert('issue-b', { updateHead: true }));
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 5,
      position: String(forged.position),
      reason: 'prev-hash-mismatch',
    });
    expect(report.breakCount).toBe(1);
  });

  it('an inserted event that chains, the head left alone: stream-head-behind-events', async () => {
    const forged = await Tamper.on(file, (t) => t.insert('issue-b', { prevHash: t.row('issue-b', 4).hash }));
    expect((await verifyLedger(source)).firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 5,
      position: String(forged.position),
      reason: 'stream-head-behind-events',
    });
  });

  it('a forged event hiding the right prevHash in a nested member is still prev-hash-mismatch', async () => {
    const forged = await Tamper.on(file, (t) =>
      t.insert('issue-b', {
        updateHead: true,
        metadata: { actor: { id: 'key1', kind: 'agent', prevHash: t.row('issue-b', 4).hash } },
      }),
    );
    const report = await verifyLedger(source);
    expect(report.firstBroken).toMatchObject({
      stream: 'issue-b',
      revision: 5,
      position: String(forged.position),
      reason: 'prev-hash-mismatch',
    });
    expect(report.breakCount).toBe(1);
  });

  it('the engine-neutral path through the EventStore port finds the same breaks in the events', async () => {
    await Tamper.on(file, (t) => t.changeData('charge-a', 2, (data) => (data.amount = 1)));
    const store = SqliteEventStore.open(file);
    try {
      const report = await verifyLedger(new EventStoreVerificationSource(store));
      expect(report).toMatchObject({ ok: false, checked: 15, headsChecked: false });
      expect(report.firstBroken).toMatchObject({ stream: 'charge-a', revision: 2, reason: 'data-mismatch' });
      expect((await verifyLedger(new EventStoreVerificationSource(store), { stream: 'issue-b' })).ok).toBe(
        true,
      );
    } finally {
      await store.close();
    }
  });
});

describe('verifyLedger on rows no SQLite file can hold', () => {
  /** A source over given rows, e.g. a revision stored twice (SQLite's UNIQUE forbids it). */
  function rowsSource(rows: RawEventRow[]): VerificationSource {
    return {
      densePositions: false,
      snapshot: (use) =>
        use({
          count: async () => rows.length,
          async *batches() {
            yield rows.map(scannedEvent);
          },
          row: async (position) => rows.find((row) => row.position === position) ?? null,
          heads: async () => null,
        }),
    };
  }

  it('a duplicated revision: revision-duplicate', async () => {
    const { file, dir } = await ledger();
    try {
      const rows: RawEventRow[] = [];
      await Tamper.on(file, (t) => {
        for (let revision = 0; revision < 3; revision++) {
          const row = t.row('issue-b', revision);
          rows.push({ ...row, schemaVersion: row.schema_version });
        }
      });
      const duplicate = { ...rows[1], position: 99 };
      const report = await verifyLedger(rowsSource([...rows, duplicate]));
      expect(report.firstBroken).toMatchObject({
        stream: 'issue-b',
        revision: 1,
        position: '99',
        reason: 'revision-duplicate',
      });
      expect(rows[0].metadata).toContain(ZERO_HASH);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
