import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import {
  ProjectionRunner,
  type EventStore,
  type NewEvent,
  type Projection,
  type ProjectionStatus,
  type SubscribeToAllOptions,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { EventStoreDbEventStore } from '../../libs/event-store/src/eventstoredb/eventstoredb-event-store';
import { ScriptedEsdbServer } from '../../libs/event-store/src/eventstoredb/testing/scripted-esdb-server';

// The runner follows a subscription that yields checkpoints. The store here subscribes with a prefix
// filter (as EventStoreDB does server-side), so the stretches of other streams come as checkpoints: the
// runner must move its stored checkpoint past them once everything before is applied, and never past an
// event it failed to apply.

function newEvent(data: Record<string, unknown>): NewEvent {
  return {
    type: 'ProbeHappened',
    schemaVersion: 1,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2026-03-02T10:00:00.000Z',
      recordedAt: '2026-03-02T10:00:00.000Z',
      actor: { kind: 'system', id: 'test' },
      correlationId: 'corr',
      causationId: null,
      schemaVersion: 1,
    },
  };
}

/** Counts the events of `probe-` streams; throws on one whose data says `fail`. */
const probe: Projection = {
  name: 'probe',
  version: 1,
  collections: [{ name: 'probes', indexes: [] }],
  streamPrefixes: ['probe-'],
  keysFor: (event) => (event.stream.startsWith('probe-') ? [{ collection: 'probes', id: event.stream }] : []),
  apply(event, current) {
    if (event.data.fail === true) throw new Error('cannot apply this one');
    const doc = current.get('probes', event.stream);
    const count = typeof doc?.count === 'number' ? doc.count : 0;
    return [
      {
        collection: 'probes',
        id: event.stream,
        doc: { id: event.stream, count: count + 1, lastPosition: event.position.toString() },
      },
    ];
  },
};

/** The store, with every subscription filtered to `probe-` streams. */
function filtering(store: SqliteEventStore): EventStore {
  return Object.create(store, {
    subscribeToAll: {
      value: (options: SubscribeToAllOptions = {}) =>
        store.subscribeToAll({ ...options, filter: { streamPrefixes: ['probe-'] }, checkpoints: true }),
    },
  });
}

describe('projection runner on a subscription with checkpoints', () => {
  let dir: string;
  let eventStore: SqliteEventStore;
  let readStore: SqliteReadModelStore;
  let runner: ProjectionRunner | undefined;
  const statuses: ProjectionStatus[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runner-checkpoints-'));
    eventStore = SqliteEventStore.open(join(dir, 'ledger.db'));
    readStore = new SqliteReadModelStore(openSqlite(join(dir, 'read.db')));
    await readStore.ensureCollections(probe.collections);
    statuses.length = 0;
  });

  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    await eventStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once the runner reports `done`, polling its status (no timing assertion). */
  async function until(done: () => boolean): Promise<void> {
    for (let tries = 0; !done(); tries++) {
      if (tries > 500) throw new Error(`runner never got there: ${JSON.stringify(runner?.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('moves the stored checkpoint past a stretch its filter left out', async () => {
    await eventStore.append('probe-1', [newEvent({}), newEvent({})], 'no_stream');
    const probed = await eventStore.headPosition();
    for (let index = 0; index < 20; index++) {
      await eventStore.append(`other-${index}`, [newEvent({}), newEvent({})], 'no_stream');
    }
    const head = await eventStore.headPosition();
    runner = new ProjectionRunner(probe, filtering(eventStore), readStore, {
      onStatus: (status) => statuses.push(status),
    });
    runner.start();
    await until(() => runner?.status.position === head.toString());
    expect(await readStore.checkpoint('probe')).toBe(head);
    expect(probed).toBeLessThan(head);
    expect(await readStore.get('probes', 'probe-1')).toMatchObject({ count: 2 });

    // Live: a quiet stretch after the head moves it on too, and a later probe event is applied once.
    await eventStore.append('other-x', [newEvent({})], 'no_stream');
    const quiet = await eventStore.headPosition();
    await until(() => runner?.status.position === quiet.toString());
    await eventStore.append('probe-1', [newEvent({})], 1);
    const last = await eventStore.headPosition();
    await until(() => runner?.status.position === last.toString());
    expect(await readStore.checkpoint('probe')).toBe(last);
    expect(await readStore.get('probes', 'probe-1')).toMatchObject({ count: 3 });
  });

  it('never moves the checkpoint past an event it failed to apply, checkpoints after it or not', async () => {
    const applied = await eventStore.append('probe-1', [newEvent({})], 'no_stream');
    await eventStore.append('probe-2', [newEvent({ fail: true })], 'no_stream');
    for (let index = 0; index < 5; index++) {
      await eventStore.append(`other-${index}`, [newEvent({})], 'no_stream');
    }
    runner = new ProjectionRunner(probe, filtering(eventStore), readStore);
    runner.start();
    await until(() => runner?.status.state === 'failed');
    expect(runner.status.failure).toMatchObject({ stream: 'probe-2' });
    expect(await readStore.checkpoint('probe')).toBe(applied.position);
  });

  it('on EventStoreDB (scripted gRPC server), moves past events of other applications with the server checkpoints', async () => {
    const server = await ScriptedEsdbServer.start();
    const esdb = EventStoreDbEventStore.fromConnectionString(server.connectionString);
    try {
      server.checkpoints.interval = 10;
      await esdb.append('probe-1', [newEvent({})], 'no_stream');
      for (let index = 0; index < 25; index++) {
        server.writeForeign(`billing-${index}`, 'InvoiceSent', { index });
      }
      const end = server.log.at(-1)!.position;
      runner = new ProjectionRunner(probe, esdb, readStore);
      runner.start();
      await until(() => runner?.status.position === end.toString());
      expect(await readStore.checkpoint('probe')).toBe(end);
      expect(await readStore.get('probes', 'probe-1')).toMatchObject({ count: 1 });
    } finally {
      await runner?.stop();
      runner = undefined;
      await esdb.close();
      await server.stop();
    }
  });
});
