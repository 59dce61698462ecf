import type { ReadDocument, StoredEvent } from '@app/ledger';
import { agentActor, givenEvents, LedgerLog, type ProjectionUnderTest } from './projection-spec';

type Tick = { type: 'Ticked'; data: { by: number } };

// Counts ticks per stream; replay-safe through lastPosition, as every projection must be.
const counter: ProjectionUnderTest = {
  name: 'counter',
  collections: [{ name: 'counts', indexes: [] }],
  keysFor: (event) => (event.type === 'Ticked' ? [{ collection: 'counts', id: event.stream }] : []),
  apply: (event, current) => {
    if (event.type !== 'Ticked') return [];
    const doc = current.get('counts', event.stream);
    if (doc !== null && Number(event.position) <= (doc.lastPosition as number)) return [];
    const total = ((doc?.total as number | undefined) ?? 0) + (event.data.by as number);
    return [
      {
        collection: 'counts',
        id: event.stream,
        doc: { id: event.stream, total, lastPosition: Number(event.position) },
      },
    ];
  },
};

const tick = (by: number): Tick => ({ type: 'Ticked', data: { by } });

function history(): StoredEvent[] {
  const log = new LedgerLog();
  log.record('clock-a', tick(1));
  log.record('clock-b', tick(5));
  log.record('clock-a', tick(2));
  log.record('clock-a', { type: 'Ignored', data: {} });
  return log.events;
}

describe('projection given/then', () => {
  it('applies the events and asserts the exact documents', () => {
    givenEvents(counter, history()).thenDocuments({
      counts: [
        { id: 'clock-b', total: 5, lastPosition: 1 },
        { id: 'clock-a', total: 3, lastPosition: 2 },
      ],
    });
    expect(() =>
      givenEvents(counter, history()).thenDocuments({
        counts: [{ id: 'clock-a', total: 3, lastPosition: 2 }],
      }),
    ).toThrow();
    expect(() => givenEvents(counter, history()).thenDocuments({})).toThrow();
  });

  it('fails a projection that is not replay-safe', () => {
    const forgetful: ProjectionUnderTest = {
      ...counter,
      apply: (event, current) =>
        counter.apply({ ...event, position: event.position + 1000n }, current).map((change) => ({
          ...change,
          doc: change.doc && { ...change.doc, lastPosition: Number(event.position) },
        })),
    };
    expect(() => givenEvents(forgetful, history())).toThrow(/applied again \(at once\)/);
  });

  it('fails a projection that reads or writes a document keysFor did not declare', () => {
    const nosy: ProjectionUnderTest = {
      ...counter,
      apply: (event, current) => (current.get('counts', 'elsewhere'), counter.apply(event, current)),
    };
    expect(() => givenEvents(nosy, history())).toThrow(/keysFor did not declare/);
    const blind: ProjectionUnderTest = { ...counter, keysFor: () => [] };
    expect(() => givenEvents(blind, history())).toThrow(/keysFor did not declare/);
  });

  it('lets a write-once collection be written again with the same content, never read', () => {
    const entries: ProjectionUnderTest = {
      name: 'entries',
      collections: [{ name: 'entries', indexes: [], writeOnce: true }],
      keysFor: (event) => [{ collection: 'entries', id: String(event.position) }],
      apply: (event) => [
        {
          collection: 'entries',
          id: String(event.position),
          doc: { id: String(event.position), type: event.type, lastPosition: Number(event.position) },
        },
      ],
    };
    expect(givenEvents(entries, history()).documents.entries).toHaveLength(4);
    const reader: ProjectionUnderTest = {
      ...entries,
      apply: (event, current) => (
        current.get('entries', String(event.position)),
        entries.apply(event, current)
      ),
    };
    expect(() => givenEvents(reader, history())).toThrow(/write-once/);
    let calls = 0;
    const drifting: ProjectionUnderTest = {
      ...entries,
      apply: (event, current) =>
        entries.apply(event, current).map((change) => ({
          ...change,
          doc: change.doc && { ...change.doc, call: calls++ },
        })),
    };
    // Unable to read, a write-once projection can only drift by being impure, which is caught first.
    expect(() => givenEvents(drifting, history())).toThrow(/toStrictEqual/);
  });

  it('fails documents that are not plain JSON or not stamped with the position', () => {
    const withDoc = (extra: (doc: ReadDocument) => ReadDocument): ProjectionUnderTest => ({
      ...counter,
      apply: (event, current) =>
        counter.apply(event, current).map((change) => ({ ...change, doc: change.doc && extra(change.doc) })),
    });
    expect(() =>
      givenEvents(
        withDoc((doc) => ({ ...doc, at: new Date(0) })),
        history(),
      ),
    ).toThrow();
    expect(() =>
      givenEvents(
        withDoc((doc) => ({ ...doc, note: undefined })),
        history(),
      ),
    ).toThrow();
    expect(() =>
      givenEvents(
        withDoc((doc) => ({ ...doc, lastPosition: 0 })),
        history(),
      ),
    ).toThrow(/lastPosition 0/);
  });

  it('fails a projection that mutates what it read', () => {
    const mutating: ProjectionUnderTest = {
      ...counter,
      apply: (event, current) => {
        const doc = current.get('counts', event.stream);
        if (doc !== null) doc.total = 0;
        return counter.apply(event, current);
      },
    };
    expect(() => givenEvents(mutating, history())).toThrow(TypeError);
  });

  it('builds stored events with stream revisions, increasing positions and a moving clock', () => {
    const log = new LedgerLog({ firstPosition: 10n, positionStep: 5n, startAt: '2026-01-01T00:00:00.000Z' });
    const first = log.record('clock-a', tick(1));
    const second = log.record('clock-b', tick(1), { actor: agentActor('a-1') });
    const third = log.record('clock-a', tick(1), {
      occurredAt: '2025-12-31T00:00:00.000Z',
      recordedAt: '2026-01-01T00:03:00.000Z',
    });
    expect(
      [first, second, third].map(({ stream, revision, position, metadata }) => ({
        stream,
        revision,
        position,
        occurredAt: metadata.occurredAt,
        recordedAt: metadata.recordedAt,
        actor: metadata.actor,
      })),
    ).toStrictEqual([
      {
        stream: 'clock-a',
        revision: 0,
        position: 10n,
        occurredAt: '2026-01-01T00:00:00.000Z',
        recordedAt: '2026-01-01T00:00:00.000Z',
        actor: { kind: 'service', id: 'svc-key' },
      },
      {
        stream: 'clock-b',
        revision: 0,
        position: 15n,
        occurredAt: '2026-01-01T00:01:00.000Z',
        recordedAt: '2026-01-01T00:01:00.000Z',
        actor: { kind: 'agent', id: 'desk-key', agentId: 'a-1' },
      },
      {
        stream: 'clock-a',
        revision: 1,
        position: 20n,
        occurredAt: '2025-12-31T00:00:00.000Z',
        recordedAt: '2026-01-01T00:03:00.000Z',
        actor: { kind: 'service', id: 'svc-key' },
      },
    ]);
    expect(log.events).toEqual([first, second, third]);
  });
});
