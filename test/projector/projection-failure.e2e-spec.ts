import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite, SqliteEventStore } from '@app/event-store';
import {
  ALL_PROJECTIONS,
  CheckpointMismatchError,
  ProjectorHost,
  type CollectionSpec,
  type DocumentChange,
  type NewEvent,
  type Projection,
  type ProjectionCommit,
  type ProjectionStatus,
  type ReadDocument,
  type ReadModelStore,
} from '@app/ledger';
import { SqliteReadModelStore } from '@app/read-store';
import { appendLedgerHistory } from '../../bench/support/ledger-history';

const BATCH = 50;
const POLL_MS = 20;
const WAIT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every POLL_MS until it holds; fails with `describe()` after WAIT_MS. */
async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  describe: () => unknown,
): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`Not ${what} after ${WAIT_MS} ms: ${JSON.stringify(describe(), null, 2)}`);
    }
    await sleep(POLL_MS);
  }
}

function newEvent(type: string, data: Record<string, unknown>): NewEvent {
  const at = new Date().toISOString();
  return {
    type,
    schemaVersion: 1,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: at,
      recordedAt: at,
      actor: { kind: 'service', id: 'projector-test' },
      correlationId: randomUUID(),
      causationId: null,
      schemaVersion: 1,
    },
  };
}

/** New issues, each opened and given `notes` notes, appended concurrently (as clients would). */
async function appendIssuesWithNotes(
  eventStore: SqliteEventStore,
  prefix: string,
  issues: number,
  notes: number,
): Promise<void> {
  await Promise.all(
    Array.from({ length: issues }, (_, index) => {
      const issueId = `${prefix}${index}`;
      return eventStore.append(
        `issue-${issueId}`,
        [
          newEvent('IssueOpened', {
            issueId,
            customerId: `${prefix}cu${index % 3}`,
            category: 'payment_failed',
            channel: 'email',
            priority: 'normal',
            chargeIds: [],
            summary: 'Customer reports a problem with a payment',
          }),
          ...Array.from({ length: notes }, (_, note) =>
            newEvent('NoteAdded', { issueId, text: `note ${note + 1}` }),
          ),
        ],
        'no_stream',
      );
    }),
  );
}

const NOTES = 'test_note_counts';
const TOTAL = '_total';

interface NoteCount extends ReadDocument {
  count: number;
  positions: number[];
}

/**
 * A test projection: per issue, and in total, the positions of the NoteAdded events it applied, in order.
 * Deliberately not replay-safe, so an event applied twice would show as a repeated position. It throws on
 * the third NoteAdded of the ledger (the total says how many came before) while `poisoned.armed`.
 */
function noteCounter(poisoned: { armed: boolean }): Projection {
  const empty = (id: string): NoteCount => ({ id, count: 0, positions: [] });
  const add = (doc: NoteCount, position: number): NoteCount => ({
    ...doc,
    count: doc.count + 1,
    positions: [...doc.positions, position],
  });
  return {
    name: 'note-counter',
    version: 1,
    collections: [{ name: NOTES, indexes: [] }],
    streamPrefixes: ['issue-'],
    keysFor: (event) =>
      event.type === 'NoteAdded'
        ? [
            { collection: NOTES, id: TOTAL },
            { collection: NOTES, id: String(event.data.issueId) },
          ]
        : [],
    apply(event, current): DocumentChange[] {
      if (event.type !== 'NoteAdded') return [];
      const total = (current.get(NOTES, TOTAL) as NoteCount | null) ?? empty(TOTAL);
      if (total.count === 2 && poisoned.armed) throw new Error('poisoned: the third note');
      const issueId = String(event.data.issueId);
      const issue = (current.get(NOTES, issueId) as NoteCount | null) ?? empty(issueId);
      const position = Number(event.position);
      return [
        { collection: NOTES, id: TOTAL, doc: add(total, position) },
        { collection: NOTES, id: issueId, doc: add(issue, position) },
      ];
    },
  };
}

/**
 * The SQLite store behind a seam at the port: every CheckpointMismatchError a commit gets is recorded, and
 * one projection's commits can be held (before they reach SQLite) until released.
 */
class ObservedStore implements ReadModelStore {
  readonly mismatches: CheckpointMismatchError[] = [];
  private held: {
    projection: string;
    arrived: Array<{ from: bigint; to: bigint }>;
    release: Promise<void>;
  } | null = null;

  constructor(private readonly inner: SqliteReadModelStore) {}

  /** Holds `projection`'s commits until the returned function is called. */
  hold(projection: string): { arrived: Array<{ from: bigint; to: bigint }>; release(): void } {
    let release!: () => void;
    const arrived: Array<{ from: bigint; to: bigint }> = [];
    this.held = { projection, arrived, release: new Promise<void>((resolve) => (release = resolve)) };
    return {
      arrived,
      release: () => {
        this.held = null;
        release();
      },
    };
  }

  async commit(
    projection: string,
    from: bigint,
    to: bigint,
    changes: readonly DocumentChange[],
  ): Promise<void> {
    const held = this.held;
    if (held?.projection === projection) {
      held.arrived.push({ from, to });
      await held.release;
    }
    try {
      await this.inner.commit(projection, from, to, changes);
    } catch (error) {
      if (error instanceof CheckpointMismatchError) this.mismatches.push(error);
      throw error;
    }
  }

  /** One after another through commit(), as the port allows, so that each passes the seam. */
  commitTogether(commits: readonly ProjectionCommit[]) {
    return Promise.all(
      commits.map(({ projection, from, to, changes }) =>
        this.commit(projection, from, to, changes).then(
          () => null,
          (error: Error) => error,
        ),
      ),
    );
  }

  ensureCollections(specs: readonly CollectionSpec[]) {
    return this.inner.ensureCollections(specs);
  }
  checkpoint(projection: string) {
    return this.inner.checkpoint(projection);
  }
  get(collection: string, id: string) {
    return this.inner.get(collection, id);
  }
  getMany(collection: string, ids: readonly string[]) {
    return this.inner.getMany(collection, ids);
  }
  list(...args: Parameters<ReadModelStore['list']>) {
    return this.inner.list(...args);
  }
  scan(...args: Parameters<ReadModelStore['scan']>) {
    return this.inner.scan(...args);
  }
  stage(projection: string, specs: readonly CollectionSpec[]) {
    return this.inner.stage(projection, specs);
  }
  close() {
    return this.inner.close();
  }
}

describe('projector host on a live SQLite ledger', () => {
  let dir: string;
  let db: Database;
  let eventStore: SqliteEventStore;
  let sqliteStore: SqliteReadModelStore;
  let store: ObservedStore;
  let host: ProjectorHost | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'projection-failure-'));
    // One connection for events and read models, as in the projector thread and apps/ledger-projector.
    db = openSqlite(join(dir, 'ledger.db'));
    eventStore = new SqliteEventStore(db);
    sqliteStore = new SqliteReadModelStore(db);
    store = new ObservedStore(sqliteStore);
    host = undefined;
  });

  afterEach(async () => {
    await host?.stop();
    await eventStore.close();
    await sqliteStore.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const statusOf = (name: string): ProjectionStatus => {
    const status = host!.statuses().find((candidate) => candidate.name === name);
    if (!status) throw new Error(`no status for ${name}`);
    return status;
  };

  /** Live, and its runner and stored checkpoint are both at the head. */
  const caughtUp = async (name: string): Promise<boolean> => {
    const head = await eventStore.headPosition();
    const status = statusOf(name);
    return (
      status.state === 'live' &&
      status.position === head.toString() &&
      (await sqliteStore.checkpoint(name)) === head
    );
  };

  const allCaughtUp = async (names: readonly string[]) => {
    for (const name of names) if (!(await caughtUp(name))) return false;
    return true;
  };

  const realNames = ALL_PROJECTIONS.map((projection) => projection.name);

  it('stops only the projection that throws, at the failing event, and resumes it from that event on retry', async () => {
    const poisoned = { armed: true };
    const counter = noteCounter(poisoned);
    host = new ProjectorHost(eventStore, store, [...ALL_PROJECTIONS, counter], { batchSize: BATCH });
    await host.start();
    await waitUntil(
      'all live on the empty ledger',
      () => allCaughtUp([...realNames, counter.name]),
      () => host!.statuses(),
    );

    await appendLedgerHistory(eventStore, 11, 600, undefined, { concurrency: 20 });
    const history = await eventStore.readAll();
    const notes = history.filter((event) => event.type === 'NoteAdded');
    expect(notes.length).toBeGreaterThan(10);
    const poison = notes[2];
    const beforePoison = history[history.indexOf(poison) - 1];

    await waitUntil(
      'note-counter failed and the others caught up',
      async () => statusOf(counter.name).state === 'failed' && (await allCaughtUp(realNames)),
      () => host!.statuses(),
    );
    const failed = statusOf(counter.name);
    expect(failed.failure).toEqual({
      position: poison.position.toString(),
      eventType: 'NoteAdded',
      stream: poison.stream,
      message: 'poisoned: the third note',
      at: expect.any(String),
    });
    // Everything before the failing event is applied and checkpointed, nothing from it on.
    expect(failed.position).toBe(beforePoison.position.toString());
    expect(await sqliteStore.checkpoint(counter.name)).toBe(beforePoison.position);
    expect(await sqliteStore.get(NOTES, TOTAL)).toEqual({
      id: TOTAL,
      count: 2,
      positions: notes.slice(0, 2).map((event) => Number(event.position)),
    });

    // The ledger goes on; the other projections follow it, the failed one stays where it stopped.
    await appendIssuesWithNotes(eventStore, 'pf-', 5, 3);
    await waitUntil(
      'the others caught up again',
      () => allCaughtUp(realNames),
      () => host!.statuses(),
    );
    expect(statusOf(counter.name)).toMatchObject({
      state: 'failed',
      position: beforePoison.position.toString(),
    });
    expect(statusOf(counter.name).failure?.position).toBe(poison.position.toString());
    expect(await sqliteStore.checkpoint(counter.name)).toBe(beforePoison.position);

    // A retry with the cause still there fails again on the same event: it is not skipped.
    await host.retry(counter.name);
    expect(statusOf(counter.name).state).not.toBe('failed');
    await waitUntil(
      'note-counter failed again',
      () => statusOf(counter.name).state === 'failed',
      () => host!.statuses(),
    );
    expect(statusOf(counter.name).failure?.position).toBe(poison.position.toString());
    expect(await sqliteStore.checkpoint(counter.name)).toBe(beforePoison.position);

    // Fixed: the retry resumes from the failing event and catches up with everyone else.
    poisoned.armed = false;
    await host.retry(counter.name);
    await waitUntil(
      'note-counter caught up',
      () => allCaughtUp([...realNames, counter.name]),
      () => host!.statuses(),
    );
    expect(statusOf(counter.name).failure).toBeNull();

    // Every NoteAdded of the ledger applied exactly once, in order, in the total and per issue.
    const allNotes = (await eventStore.readAll()).filter((event) => event.type === 'NoteAdded');
    expect(allNotes.length).toBe(notes.length + 15);
    const expected = new Map<string, number[]>([[TOTAL, []]]);
    for (const event of allNotes) {
      const issueId = String(event.data.issueId);
      expected.get(TOTAL)!.push(Number(event.position));
      expected.set(issueId, [...(expected.get(issueId) ?? []), Number(event.position)]);
    }
    const stored: ReadDocument[] = [];
    for await (const doc of sqliteStore.scan(NOTES, { orderBy: { field: 'id', direction: 'asc' } })) {
      stored.push(doc);
    }
    expect(stored).toEqual(
      [...expected]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, positions]) => ({ id, count: positions.length, positions })),
    );
    expect(store.mismatches).toEqual([]);
  });

  it('a rebuild promoted under a running projector makes it resume from the promoted checkpoint', async () => {
    const name = 'issue-summary';
    const states: string[] = [];
    host = new ProjectorHost(eventStore, store, ALL_PROJECTIONS, {
      batchSize: BATCH,
      onStatus: (status) => {
        if (status.name === name && states.at(-1) !== status.state) states.push(status.state);
      },
    });
    await host.start();
    await appendLedgerHistory(eventStore, 12, 1500, undefined, { concurrency: 20 });
    await waitUntil(
      'all caught up',
      () => allCaughtUp(realNames),
      () => host!.statuses(),
    );
    const before = await eventStore.headPosition();

    // The live runner's next commit is held at the port, before it reaches SQLite ...
    const held = store.hold(name);
    await appendIssuesWithNotes(eventStore, 'rb-', 6, 2);
    await waitUntil(
      'the live commit held',
      () => held.arrived.length > 0,
      () => host!.statuses(),
    );
    expect(held.arrived[0].from).toBe(before);
    // ... while another process (`ledger rebuild`, its own connection) promotes a rebuild from the first
    // event, moving the checkpoint under it. (A rebuild by this host pauses its own runner instead.)
    const otherDb = openSqlite(join(dir, 'ledger.db'));
    try {
      const other = new ProjectorHost(
        new SqliteEventStore(otherDb),
        new SqliteReadModelStore(otherDb),
        ALL_PROJECTIONS,
      );
      const report = await other.rebuild(name);
      expect(report.promoted).toBe(true);
    } finally {
      otherDb.close();
    }
    const promoted = await sqliteStore.checkpoint(name);
    expect(promoted).toBe(await eventStore.headPosition());
    expect(promoted).toBeGreaterThan(before);

    // Released, the stale commit is refused and nothing of it written; the runner resumes from the
    // promoted checkpoint and follows what is appended next.
    held.release();
    await waitUntil(
      'the stale commit refused',
      () => store.mismatches.length > 0,
      () => host!.statuses(),
    );
    expect(
      store.mismatches.map(({ projection, expected, actual }) => ({ projection, expected, actual })),
    ).toEqual([{ projection: name, expected: before, actual: promoted }]);
    await appendIssuesWithNotes(eventStore, 'ra-', 6, 2);
    await waitUntil(
      'all caught up after the rebuild',
      () => allCaughtUp(realNames),
      () => host!.statuses(),
    );
    expect(store.mismatches).toHaveLength(1);
    // A mismatch is not a storage error: the runner resumed at once, never reporting a failure.
    expect(states).not.toContain('failed');
    const resumed = await sqliteStore.get('issue_summaries', 'ra-5');
    expect(resumed).toMatchObject({ id: 'ra-5', status: 'open' });
    expect(resumed?.lastPosition).toBeGreaterThan(Number(promoted));

    // The runner got there by itself (checked above: its checkpoint is the head); a compare rebuild
    // finds the live documents equal to ones rebuilt from the first event.
    const compared = await host.rebuild(name, { compare: true });
    expect(compared.comparison).toEqual({
      documents: expect.any(Number),
      differenceCount: 0,
      differences: [],
    });
    expect(compared.comparison!.documents).toBeGreaterThan(100);
    expect(await caughtUp(name)).toBe(true);
    await appendIssuesWithNotes(eventStore, 'rc-', 2, 1);
    await waitUntil(
      'still following after the compare',
      () => caughtUp(name),
      () => host!.statuses(),
    );
  });
});
