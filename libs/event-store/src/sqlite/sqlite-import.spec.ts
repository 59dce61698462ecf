import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { hashedEvent, ImportRejectedError, ZERO_HASH, type NewEvent, type StoredEvent } from '@app/ledger';
import { describeEventImportContract } from '../contract/event-import.contract';
import { openSqlite } from './open-sqlite';
import { SqliteEventStore } from './sqlite-event-store';

describeEventImportContract('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'event-import-'));
  const db = openSqlite(join(dir, 'ledger.db'));
  const store = new SqliteEventStore(db);
  return {
    store,
    async cleanup() {
      await store.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

function newEvent(n: number): NewEvent {
  return {
    type: 'NoteAdded',
    schemaVersion: 1,
    data: { n, text: 'ü\u2028' },
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2025-06-01T12:00:00.000Z',
      recordedAt: '2025-06-01T12:00:01.000Z',
      actor: { kind: 'service', id: 'key-1' },
      correlationId: 'c',
      causationId: null,
      ...(n % 2 === 0 ? { idempotencyKey: `k${n}` } : {}),
      schemaVersion: 1,
    },
  };
}

describe('SqliteEventStore.importEvents', () => {
  it('writes the columns as append does, so the verifier checks imported events on its fast path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'event-import-'));
    const sourceFile = join(dir, 'source.db');
    const targetFile = join(dir, 'target.db');
    const source = SqliteEventStore.open(sourceFile);
    const target = SqliteEventStore.open(targetFile);
    try {
      for (let n = 0; n < 30; n++) await source.append(`issue-${n % 4}`, [newEvent(n)], 'any');
      const events = await source.readAll();
      await target.importEvents(events);
      const select = (file: string, sql: string) => {
        const db = openSqlite(file, { readonly: true });
        try {
          return db.prepare(sql).all();
        } finally {
          db.close();
        }
      };
      const rows = (file: string) => select(file, 'SELECT * FROM events ORDER BY position');
      const heads = (file: string) => select(file, 'SELECT * FROM streams ORDER BY stream');
      // Same file contents for the events and stream heads, positions included on an empty target.
      expect(rows(targetFile)).toEqual(rows(sourceFile));
      expect(heads(targetFile)).toEqual(heads(sourceFile));
      // An event id already stored elsewhere is refused (SQLite keeps a global index of ids): a valid event
      // of another stream that reuses one, as an engine without that index could have stored.
      const reused = {
        ...newEvent(99),
        metadata: { ...newEvent(99).metadata, eventId: events[0].metadata.eventId },
      };
      const { metadata, canonical, hash } = hashedEvent('issue-other', 0, reused, ZERO_HASH);
      const stored: StoredEvent = {
        stream: 'issue-other',
        revision: 0,
        position: 0n,
        type: reused.type,
        schemaVersion: 1,
        data: reused.data,
        metadata: { ...metadata, hash },
        canonical,
      };
      const error = await target.importEvents([stored]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ImportRejectedError);
      expect(error).toMatchObject({ reason: 'event-id-taken', stream: 'issue-other' });
    } finally {
      await source.close();
      await target.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
