import { randomUUID } from 'node:crypto';
import {
  CheckpointMismatchError,
  InvalidReadQueryError,
  type CollectionSpec,
  type DocumentChange,
  type IndexedValue,
  type ListQuery,
  type Page,
  type ReadDocument,
  type ReadModelStore,
  type StagedReadModels,
} from '@app/ledger';

export interface ReadModelStoreContractSubject {
  store: ReadModelStore;
  /**
   * Another store over the same data, as a second process would open it (SQLite: another connection to
   * the same file; MongoDB: another client). cleanup() closes the peers too.
   */
  openPeer(): Promise<ReadModelStore>;
  cleanup(): Promise<void>;
}

export type ReadModelStoreContractFactory = () => Promise<ReadModelStoreContractSubject>;

type Reader = Pick<ReadModelStore, 'get' | 'getMany' | 'list' | 'scan' | 'checkpoint'>;
type Order = ListQuery['orderBy'];

const upsert = (collection: string, doc: ReadDocument): DocumentChange => ({ collection, id: doc.id, doc });
const remove = (collection: string, id: string): DocumentChange => ({ collection, id, doc: null });

/** Names unique per test, so the suite also runs against a shared server that holds other data. */
const uniqueName = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('Expected a rejection');
}

async function collect(iterable: AsyncIterable<ReadDocument>): Promise<ReadDocument[]> {
  const documents: ReadDocument[] = [];
  for await (const document of iterable) documents.push(document);
  return documents;
}

const ids = (documents: readonly ReadDocument[]) => documents.map((document) => document.id);

/** The port's order: null (or absent) before numbers before strings; booleans false before true. */
function compareValues(a: unknown, b: unknown): number {
  const rank = (value: unknown) =>
    value === null || value === undefined
      ? 0
      : typeof value === 'number'
        ? 1
        : typeof value === 'string'
          ? 2
          : 3;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 0) return 0;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function sortedIds(documents: readonly ReadDocument[], { field, direction }: Order): string[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...documents]
    .sort((x, y) => sign * (compareValues(x[field], y[field]) || compareValues(x.id, y.id)))
    .map((document) => document.id);
}

/** Follows nextCursor to the end; fails rather than loops if a cursor repeats. */
async function allPages(
  reader: Reader,
  collection: string,
  query: Omit<ListQuery, 'cursor'>,
  startCursor?: string,
): Promise<{ pages: Page[]; ids: string[] }> {
  const pages: Page[] = [];
  const seenCursors = new Set<string>();
  let cursor = startCursor;
  do {
    const page = await reader.list(collection, { ...query, cursor });
    pages.push(page);
    if (page.nextCursor !== null) {
      if (seenCursors.has(page.nextCursor)) throw new Error('A cursor came back twice');
      seenCursors.add(page.nextCursor);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 1000);
  return { pages, ids: pages.flatMap((page) => ids(page.items)) };
}

const ISSUE_INDEXES = ['status', 'priority', 'openedAt', 'assignee', 'urgent', 'amount'];

/**
 * 57 issues with ties in every field, nulls and absent fields in `assignee`, negative amounts, booleans,
 * and an unindexed nested payload.
 */
function issueDocuments(): ReadDocument[] {
  return Array.from({ length: 57 }, (_, n) => {
    const document: ReadDocument = {
      id: `i-${String(n).padStart(3, '0')}`,
      status: ['open', 'resolved', 'closed'][n % 3],
      priority: ((n * 7) % 4) + 1,
      openedAt: `2025-01-${String((n % 28) + 1).padStart(2, '0')}T0${n % 10}:00:00.000Z`,
      urgent: n % 7 === 0,
      amount: n % 6 === 0 ? -100 * n - 50 : 150 * (n % 20),
      notes: [{ text: `note ${n}`, tags: n % 2 === 0 ? ['even'] : [] }],
    };
    if (n % 4 === 0) document.assignee = null;
    else if (n % 5 !== 0) document.assignee = `agent-${n % 3}`;
    return document;
  });
}

/** The ReadModelStore port's semantics, run against every adapter (docs/read-store.md). */
export function describeReadModelStoreContract(name: string, factory: ReadModelStoreContractFactory): void {
  describe(`ReadModelStore contract: ${name}`, () => {
    let subject: ReadModelStoreContractSubject;
    let store: ReadModelStore;
    let issues: string;
    let projection: string;
    let issueSpec: CollectionSpec;

    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
      issues = uniqueName('issues');
      projection = uniqueName('projection');
      issueSpec = { name: issues, indexes: ISSUE_INDEXES };
      await store.ensureCollections([issueSpec]);
    });

    afterEach(async () => {
      await subject?.cleanup();
    });

    describe('documents', () => {
      it('stores, replaces and deletes whole documents', async () => {
        const first: ReadDocument = {
          id: 'doc-1',
          status: 'open',
          text: 'héllo ☃ 😀 "quoted" \\ \n',
          nested: { list: [1, 2.5, null, { deep: true }], empty: {} },
          amount: 12345,
        };
        await store.commit(projection, -1n, 0n, [upsert(issues, first)]);
        expect(await store.get(issues, 'doc-1')).toEqual(first);
        expect(await store.get(issues, 'missing')).toBeNull();

        const replaced: ReadDocument = { id: 'doc-1', status: 'resolved' };
        await store.commit(projection, 0n, 1n, [upsert(issues, replaced)]);
        expect(await store.get(issues, 'doc-1')).toEqual(replaced);

        await store.commit(projection, 1n, 2n, [remove(issues, 'doc-1'), remove(issues, 'never-existed')]);
        expect(await store.get(issues, 'doc-1')).toBeNull();
      });

      it('applies a batch in order: a later change of the same document wins', async () => {
        await store.commit(projection, -1n, 0n, [
          upsert(issues, { id: 'a', version: 1 }),
          upsert(issues, { id: 'a', version: 2 }),
          upsert(issues, { id: 'b', version: 1 }),
          remove(issues, 'b'),
          remove(issues, 'c'),
          upsert(issues, { id: 'c', version: 1 }),
        ]);
        expect(await store.get(issues, 'a')).toEqual({ id: 'a', version: 2 });
        expect(await store.get(issues, 'b')).toBeNull();
        expect(await store.get(issues, 'c')).toEqual({ id: 'c', version: 1 });
      });

      it('returns the existing documents among many ids, by id', async () => {
        await store.commit(projection, -1n, 0n, [
          upsert(issues, { id: 'a', n: 1 }),
          upsert(issues, { id: 'b', n: 2 }),
          upsert(issues, { id: 'c', n: 3 }),
        ]);
        const found = await store.getMany(issues, ['c', 'missing', 'a', 'a']);
        expect(found).toBeInstanceOf(Map);
        expect([...found.entries()].sort(([x], [y]) => (x < y ? -1 : 1))).toEqual([
          ['a', { id: 'a', n: 1 }],
          ['c', { id: 'c', n: 3 }],
        ]);
        expect((await store.getMany(issues, [])).size).toBe(0);
        const many = Array.from({ length: 1500 }, (_, index) => `id-${index}`);
        expect((await store.getMany(issues, [...many, 'b'])).size).toBe(1);
      });

      it('keeps collections apart: the same id in two collections', async () => {
        const other = uniqueName('others');
        await store.ensureCollections([{ name: other, indexes: [] }]);
        await store.commit(projection, -1n, 0n, [
          upsert(issues, { id: 'same', in: 'issues' }),
          upsert(other, { id: 'same', in: 'others' }),
        ]);
        await store.commit(projection, 0n, 1n, [remove(other, 'same')]);
        expect(await store.get(issues, 'same')).toEqual({ id: 'same', in: 'issues' });
        expect(await store.get(other, 'same')).toBeNull();
      });

      it('ensures collections idempotently, and an index added later covers existing documents', async () => {
        await store.commit(projection, -1n, 0n, [
          upsert(issues, { id: 'a', status: 'open', region: 'eu' }),
          upsert(issues, { id: 'b', status: 'open', region: 'us' }),
        ]);
        await store.ensureCollections([issueSpec]);
        await store.ensureCollections([{ name: issues, indexes: [...ISSUE_INDEXES, 'region'] }]);
        const query = (where: ListQuery['where']) =>
          store.list(issues, { where, orderBy: { field: 'id', direction: 'asc' }, limit: 10 });
        expect(ids((await query({ region: 'eu' })).items)).toEqual(['a']);
        expect(ids((await query({ status: 'open' })).items)).toEqual(['a', 'b']);
        expect(await store.get(issues, 'b')).toEqual({ id: 'b', status: 'open', region: 'us' });
      });
    });

    describe('queries', () => {
      let documents: ReadDocument[];
      beforeEach(async () => {
        documents = issueDocuments();
        await store.commit(
          projection,
          -1n,
          0n,
          documents.map((document) => upsert(issues, document)),
        );
      });

      const byId: Order = { field: 'id', direction: 'asc' };
      const matching = (predicate: (document: ReadDocument) => boolean) =>
        documents.filter(predicate).map((document) => document.id);
      const listIds = async (where: ListQuery['where']) =>
        ids((await store.list(issues, { where, orderBy: byId, limit: 1000 })).items);

      it('filters by equality on strings, numbers, booleans, null (null also matches absent fields) and id', async () => {
        expect(await listIds({ status: 'open' })).toEqual(matching((d) => d.status === 'open'));
        expect(await listIds({ priority: 2 })).toEqual(matching((d) => d.priority === 2));
        expect(await listIds({ urgent: true })).toEqual(matching((d) => d.urgent === true));
        expect(await listIds({ urgent: false })).toEqual(matching((d) => d.urgent === false));
        const unassigned = matching((d) => d.assignee === null || d.assignee === undefined);
        expect(unassigned.length).toBeGreaterThan(15);
        expect(await listIds({ assignee: null })).toEqual(unassigned);
        expect(await listIds({ id: 'i-005' })).toEqual(['i-005']);
        expect(await listIds({ status: 'nothing' })).toEqual([]);
        expect(await listIds({})).toEqual(matching(() => true));
        expect(await listIds(undefined)).toEqual(matching(() => true));
      });

      it('filters by membership, null included', async () => {
        expect(await listIds({ status: { in: ['open', 'closed'] } })).toEqual(
          matching((d) => d.status === 'open' || d.status === 'closed'),
        );
        expect(await listIds({ assignee: { in: ['agent-1', null] } })).toEqual(
          matching((d) => d.assignee === 'agent-1' || d.assignee == null),
        );
        expect(await listIds({ priority: { in: [1, 4] } })).toEqual(
          matching((d) => d.priority === 1 || d.priority === 4),
        );
        expect(await listIds({ id: { in: ['i-050', 'i-003', 'nope'] } })).toEqual(['i-003', 'i-050']);
        expect(await listIds({ status: { in: [] } })).toEqual([]);
      });

      it('filters by ranges, bounds combined, and conjoins fields', async () => {
        expect(await listIds({ openedAt: { gte: '2025-01-10', lt: '2025-01-20' } })).toEqual(
          matching((d) => (d.openedAt as string) >= '2025-01-10' && (d.openedAt as string) < '2025-01-20'),
        );
        expect(await listIds({ amount: { gt: 0, lte: 1500 } })).toEqual(
          matching((d) => (d.amount as number) > 0 && (d.amount as number) <= 1500),
        );
        expect(await listIds({ amount: { lt: 0 } })).toEqual(matching((d) => (d.amount as number) < 0));
        expect(await listIds({ priority: { gte: 3 } })).toEqual(matching((d) => (d.priority as number) >= 3));
        expect(await listIds({ assignee: { gte: 'agent-1' } })).toEqual(
          matching((d) => typeof d.assignee === 'string' && d.assignee >= 'agent-1'),
        );
        expect(await listIds({ id: { gt: 'i-010', lte: 'i-020' } })).toEqual(
          matching((d) => d.id > 'i-010' && d.id <= 'i-020'),
        );
        const combined = matching(
          (d) => d.status === 'resolved' && (d.amount as number) >= 1000 && d.assignee === 'agent-1',
        );
        expect(combined.length).toBeGreaterThan(5);
        expect(
          await listIds({
            status: 'resolved',
            amount: { gte: 1000 },
            assignee: { in: ['agent-1', 'agent-9'] },
          }),
        ).toEqual(combined);
      });

      it('orders ascending and descending, ties broken by id in the same direction, nulls first ascending', async () => {
        const orders: Order[] = [
          'status',
          'priority',
          'openedAt',
          'assignee',
          'urgent',
          'amount',
          'id',
        ].flatMap((field) => (['asc', 'desc'] as const).map((direction) => ({ field, direction })));
        for (const orderBy of orders) {
          const page = await store.list(issues, { orderBy, limit: 1000 });
          expect({ orderBy, ids: ids(page.items) }).toEqual({ orderBy, ids: sortedIds(documents, orderBy) });
          expect(page.nextCursor).toBeNull();
        }
        const ascending = await store.list(issues, {
          orderBy: { field: 'assignee', direction: 'asc' },
          limit: 3,
        });
        expect(ascending.items.map((d) => d.assignee ?? null)).toEqual([null, null, null]);
        expect(ids(ascending.items)).toEqual(['i-000', 'i-004', 'i-005']);
      });

      it('pages through more than three pages without skipping or repeating, nulls and ties included', async () => {
        const cases: { where?: ListQuery['where']; orderBy: Order; limit: number }[] = [
          { orderBy: { field: 'assignee', direction: 'asc' }, limit: 7 },
          { orderBy: { field: 'assignee', direction: 'desc' }, limit: 7 },
          { orderBy: { field: 'status', direction: 'asc' }, limit: 4 },
          { orderBy: { field: 'amount', direction: 'desc' }, limit: 5 },
          { orderBy: { field: 'urgent', direction: 'asc' }, limit: 6 },
          { orderBy: { field: 'id', direction: 'desc' }, limit: 8 },
          {
            where: { status: { in: ['open', 'closed'] } },
            orderBy: { field: 'assignee', direction: 'desc' },
            limit: 3,
          },
          { where: { assignee: null }, orderBy: { field: 'assignee', direction: 'asc' }, limit: 2 },
        ];
        for (const query of cases) {
          const expected = sortedIds(
            documents.filter((d) =>
              Object.entries(query.where ?? {}).every(([field, filter]) =>
                filter !== null && typeof filter === 'object' && 'in' in filter
                  ? filter.in.includes((d[field] ?? null) as IndexedValue)
                  : (d[field] ?? null) === filter,
              ),
            ),
            query.orderBy,
          );
          const { pages, ids: paged } = await allPages(store, issues, query);
          expect({ query, paged }).toEqual({ query, paged: expected });
          expect(pages.length).toBe(Math.ceil(expected.length / query.limit));
          expect(pages.length).toBeGreaterThan(3);
          for (const page of pages.slice(0, -1)) expect(page.items).toHaveLength(query.limit);
        }
      });

      it('ends with nextCursor null when the last page is exactly full', async () => {
        const { pages, ids: paged } = await allPages(store, issues, {
          where: { id: { lt: 'i-020' } },
          orderBy: { field: 'id', direction: 'asc' },
          limit: 5,
        });
        expect(pages.map((page) => page.items.length)).toEqual([5, 5, 5, 5]);
        expect(pages[3].nextCursor).toBeNull();
        expect(paged).toEqual(matching((d) => d.id < 'i-020'));
        const single = await store.list(issues, { orderBy: byId, limit: 57 });
        expect(single.items).toHaveLength(57);
        expect(single.nextCursor).toBeNull();
      });

      it('continues from a cursor whose document was changed or deleted meanwhile', async () => {
        const orderBy: Order = { field: 'amount', direction: 'asc' };
        const expected = sortedIds(documents, orderBy);
        const first = await store.list(issues, { orderBy, limit: 10 });
        expect(ids(first.items)).toEqual(expected.slice(0, 10));
        const last = first.items[9];
        await store.commit(projection, 0n, 1n, [
          remove(issues, last.id),
          remove(issues, expected[10]),
          upsert(issues, { ...documents.find((d) => d.id === expected[11])!, status: 'changed' }),
        ]);
        const { ids: rest } = await allPages(store, issues, { orderBy, limit: 10 }, first.nextCursor!);
        expect(rest).toEqual(expected.slice(11));
      });

      it('returns documents whole from list and scan', async () => {
        const page = await store.list(issues, { where: { id: 'i-002' }, orderBy: byId, limit: 1 });
        expect(page.items).toEqual([documents[2]]);
        const scanned = await collect(store.scan(issues, { where: { id: 'i-002' }, orderBy: byId }));
        expect(scanned).toEqual([documents[2]]);
      });

      it('matches values holding quotes and SQL or operator syntax literally', async () => {
        const tricky = [`it's "quoted"; DROP TABLE x; --`, '$ne', '{"$gt": ""}', '%', '_'];
        await store.commit(
          projection,
          0n,
          1n,
          tricky.map((status, index) => upsert(issues, { id: `tricky-${index}`, status })),
        );
        for (const [index, status] of tricky.entries()) {
          expect(await listIds({ status })).toEqual([`tricky-${index}`]);
        }
        expect(await listIds({ status: { in: tricky } })).toHaveLength(tricky.length);
        expect((await store.list(issues, { orderBy: byId, limit: 1000 })).items).toHaveLength(
          57 + tricky.length,
        );
      });

      it('rejects queries on unknown collections or unindexed fields, bad limits and operators', async () => {
        const orderBy = byId;
        const bad: (() => Promise<unknown>)[] = [
          () => store.list(uniqueName('unknown'), { orderBy, limit: 10 }),
          () => store.get(uniqueName('unknown'), 'a'),
          () => store.getMany(uniqueName('unknown'), ['a']),
          () => collect(store.scan(uniqueName('unknown'), { orderBy })),
          () => store.list(issues, { where: { notes: 'x' }, orderBy, limit: 10 }),
          () => store.list(issues, { orderBy: { field: 'notes', direction: 'asc' }, limit: 10 }),
          () => collect(store.scan(issues, { where: { notes: 'x' }, orderBy })),
          () => store.list(issues, { where: { "status' OR 1=1 --": 'x' }, orderBy, limit: 10 }),
          () =>
            store.list(issues, {
              orderBy: { field: 'status DESC; DROP TABLE x', direction: 'asc' },
              limit: 10,
            }),
          () => store.list(issues, { orderBy: { field: 'status', direction: 'up' as never }, limit: 10 }),
          () => store.list(issues, { where: { status: { $ne: 'open' } as never }, orderBy, limit: 10 }),
          () => store.list(issues, { where: { status: { ne: 'open' } as never }, orderBy, limit: 10 }),
          () => store.list(issues, { where: { status: {} as never }, orderBy, limit: 10 }),
          () => store.list(issues, { where: { status: { in: 'open' } as never }, orderBy, limit: 10 }),
          () =>
            store.list(issues, { where: { status: { in: ['open'], gt: 'a' } as never }, orderBy, limit: 10 }),
          () => store.list(issues, { where: { status: ['open'] as never }, orderBy, limit: 10 }),
          () => store.list(issues, { where: { status: { gt: { x: 1 } } as never }, orderBy, limit: 10 }),
          () => store.list(issues, { where: { status: { x: 1 } as never }, orderBy, limit: 10 }),
          ...[0, -1, 1001, 2.5, Number.NaN].map((limit) => () => store.list(issues, { orderBy, limit })),
        ];
        for (const [index, query] of bad.entries()) {
          const error = await rejection(query);
          expect({ index, error }).toEqual({ index, error: expect.any(InvalidReadQueryError) });
        }
        expect((await store.list(issues, { orderBy, limit: 1000 })).items).toHaveLength(57);
        expect((await store.list(issues, { orderBy, limit: 1 })).items).toHaveLength(1);
      });

      it('rejects malformed cursors', async () => {
        const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const cursors = [
          'not a cursor!',
          'AAAA',
          encode({ after: 'i-001' }),
          encode('i-001'),
          encode([1, 2, 3, 4, 5]),
        ];
        for (const cursor of cursors) {
          const error = await rejection(() => store.list(issues, { orderBy: byId, limit: 10, cursor }));
          expect({ cursor, error }).toEqual({ cursor, error: expect.any(InvalidReadQueryError) });
        }
      });
    });

    describe('scan', () => {
      let groups: string;
      let documents: ReadDocument[];
      beforeEach(async () => {
        groups = uniqueName('groups');
        await store.ensureCollections([{ name: groups, indexes: ['group', 'label'] }]);
        // More than two pages of any internal page size up to 1000.
        documents = Array.from({ length: 2345 }, (_, n) => ({
          id: `g-${String((n * 7919) % 2345).padStart(5, '0')}`,
          group: n % 10 === 0 ? null : n % 17,
          label: `label-${n % 3}`,
        }));
        await store.commit(
          projection,
          -1n,
          0n,
          documents.map((document) => upsert(groups, document)),
        );
      });

      it('yields every matching document in order, nulls and ties included', async () => {
        for (const orderBy of [
          { field: 'group', direction: 'desc' },
          { field: 'group', direction: 'asc' },
          { field: 'id', direction: 'asc' },
        ] satisfies Order[]) {
          const scanned = ids(await collect(store.scan(groups, { orderBy })));
          expect(scanned).toEqual(sortedIds(documents, orderBy));
        }
        const filtered = ids(
          await collect(
            store.scan(groups, {
              where: { label: 'label-1' },
              orderBy: { field: 'group', direction: 'asc' },
            }),
          ),
        );
        expect(filtered).toEqual(
          sortedIds(
            documents.filter((d) => d.label === 'label-1'),
            { field: 'group', direction: 'asc' },
          ),
        );
      });

      it('agrees with list pages of the largest size', async () => {
        const orderBy: Order = { field: 'group', direction: 'desc' };
        const { pages, ids: paged } = await allPages(store, groups, { orderBy, limit: 1000 });
        expect(pages.map((page) => page.items.length)).toEqual([1000, 1000, 345]);
        expect(paged).toEqual(ids(await collect(store.scan(groups, { orderBy }))));
      });
    });

    describe('checkpoints', () => {
      it('starts at -1 and moves with each commit, per projection', async () => {
        const other = uniqueName('projection');
        expect(await store.checkpoint(projection)).toBe(-1n);
        await store.commit(projection, -1n, 4n, [upsert(issues, { id: 'a' })]);
        expect(await store.checkpoint(projection)).toBe(4n);
        await store.commit(projection, 4n, 9n, []);
        expect(await store.checkpoint(projection)).toBe(9n);
        expect(await store.checkpoint(other)).toBe(-1n);
        await store.commit(other, -1n, 2n, []);
        expect(await store.checkpoint(other)).toBe(2n);
        expect(await store.checkpoint(projection)).toBe(9n);
      });

      it('commits several projections together, each applied or refused alone', async () => {
        const other = uniqueName('projection');
        const third = uniqueName('projection');
        await store.commit(other, -1n, 5n, []);
        const errors = await store.commitTogether([
          { projection, from: -1n, to: 7n, changes: [upsert(issues, { id: 'a', by: 'first' })] },
          // Stale: its checkpoint is at 5, not -1.
          { projection: other, from: -1n, to: 8n, changes: [upsert(issues, { id: 'b', by: 'stale' })] },
          { projection: third, from: -1n, to: 9n, changes: [upsert(issues, { id: 'c', by: 'third' })] },
        ]);
        expect(errors.map((error) => error?.constructor)).toEqual([
          undefined,
          CheckpointMismatchError,
          undefined,
        ]);
        expect(errors[1]).toMatchObject({ projection: other, expected: -1n, actual: 5n });
        expect(await store.get(issues, 'a')).toEqual({ id: 'a', by: 'first' });
        expect(await store.get(issues, 'b')).toBeNull();
        expect(await store.get(issues, 'c')).toEqual({ id: 'c', by: 'third' });
        expect([
          await store.checkpoint(projection),
          await store.checkpoint(other),
          await store.checkpoint(third),
        ]).toEqual([7n, 5n, 9n]);
        expect(await store.commitTogether([])).toEqual([]);
      });

      it('keeps positions beyond 2^53 exact', async () => {
        const far = 2n ** 62n + 3n;
        await store.commit(projection, -1n, 9007199254740993n, []);
        expect(await store.checkpoint(projection)).toBe(9007199254740993n);
        await store.commit(projection, 9007199254740993n, far, []);
        expect(await store.checkpoint(projection)).toBe(far);
      });

      it('refuses a batch from another position, writing nothing', async () => {
        await store.commit(projection, -1n, 9n, [upsert(issues, { id: 'a', version: 1 })]);
        for (const stale of [-1n, 3n, 10n]) {
          const error = await rejection(() =>
            store.commit(projection, stale, 20n, [
              upsert(issues, { id: 'a', version: 2 }),
              upsert(issues, { id: 'b', version: 1 }),
              remove(issues, 'a'),
            ]),
          );
          expect(error).toBeInstanceOf(CheckpointMismatchError);
          expect(error).toMatchObject({ projection, expected: stale, actual: 9n });
        }
        expect(await store.get(issues, 'a')).toEqual({ id: 'a', version: 1 });
        expect(await store.get(issues, 'b')).toBeNull();
        expect(await store.checkpoint(projection)).toBe(9n);

        const fresh = uniqueName('projection');
        const error = await rejection(() => store.commit(fresh, 5n, 6n, [upsert(issues, { id: 'c' })]));
        expect(error).toMatchObject({ projection: fresh, expected: 5n, actual: -1n });
        expect(await store.get(issues, 'c')).toBeNull();
        expect(await store.checkpoint(fresh)).toBe(-1n);
      });

      it('lets exactly one of two stores racing the same batch win', async () => {
        const peer = await subject.openPeer();
        expect(await peer.checkpoint(projection)).toBe(-1n);
        for (let round = 0; round < 12; round++) {
          const from = round === 0 ? -1n : BigInt(round * 10);
          const to = BigInt((round + 1) * 10);
          const batch = (by: string) => [
            upsert(issues, { id: 'contested', round, by }),
            upsert(issues, { id: `${by}-${round}`, round }),
          ];
          const outcomes = await Promise.allSettled([
            store.commit(projection, from, to, batch('store')),
            peer.commit(projection, from, to, batch('peer')),
          ]);
          const won = outcomes.map((outcome) => outcome.status === 'fulfilled');
          expect(won.filter(Boolean)).toHaveLength(1);
          const lost = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
          expect(lost.reason).toBeInstanceOf(CheckpointMismatchError);
          const [winner, loser] = won[0] ? ['store', 'peer'] : ['peer', 'store'];
          for (const reader of [store, peer]) {
            expect(await reader.get(issues, 'contested')).toEqual({ id: 'contested', round, by: winner });
            expect(await reader.get(issues, `${loser}-${round}`)).toBeNull();
            expect(await reader.get(issues, `${winner}-${round}`)).toEqual({
              id: `${winner}-${round}`,
              round,
            });
            expect(await reader.checkpoint(projection)).toBe(to);
          }
        }
      });
    });

    describe('staging', () => {
      let live: ReadDocument[];
      let rebuilt: ReadDocument[];
      const byId: Order = { field: 'id', direction: 'asc' };
      const everything = async (reader: Reader, collection: string) =>
        (await reader.list(collection, { orderBy: byId, limit: 1000 })).items;

      beforeEach(async () => {
        live = [
          { id: 'live-1', status: 'open', region: 'eu' },
          { id: 'shared', status: 'open', region: 'eu', version: 'live' },
        ];
        rebuilt = [
          { id: 'rebuilt-1', status: 'closed', region: 'us' },
          { id: 'rebuilt-2', status: 'open', region: 'eu' },
          { id: 'shared', status: 'resolved', region: 'us', version: 'rebuilt' },
        ];
        await store.commit(
          projection,
          -1n,
          20n,
          live.map((document) => upsert(issues, document)),
        );
      });

      const stageAndFill = async (): Promise<StagedReadModels> => {
        const staged = await store.stage(projection, [
          { name: issues, indexes: [...ISSUE_INDEXES, 'region'] },
        ]);
        expect(staged.projection).toBe(projection);
        await staged.commit(
          projection,
          -1n,
          15n,
          rebuilt.map((document) => upsert(issues, document)),
        );
        return staged;
      };

      it('starts empty at -1 and stays invisible to the live store until promoted', async () => {
        const peer = await subject.openPeer();
        const staged = await store.stage(projection, [
          { name: issues, indexes: [...ISSUE_INDEXES, 'region'] },
        ]);
        expect(await staged.checkpoint(projection)).toBe(-1n);
        expect(await staged.get(issues, 'live-1')).toBeNull();
        expect(await everything(staged, issues)).toEqual([]);

        await staged.commit(
          projection,
          -1n,
          15n,
          rebuilt.map((document) => upsert(issues, document)),
        );
        await store.commit(projection, 20n, 21n, [upsert(issues, { id: 'live-2', status: 'open' })]);

        expect(await staged.checkpoint(projection)).toBe(15n);
        expect(await everything(staged, issues)).toEqual(rebuilt);
        expect(await staged.get(issues, 'shared')).toEqual(rebuilt[2]);
        expect([...(await staged.getMany(issues, ['shared', 'live-1', 'rebuilt-1'])).keys()].sort()).toEqual([
          'rebuilt-1',
          'shared',
        ]);
        const euRebuilt = await staged.list(issues, { where: { region: 'eu' }, orderBy: byId, limit: 10 });
        expect(ids(euRebuilt.items)).toEqual(['rebuilt-2']);
        expect(
          ids(await collect(staged.scan(issues, { orderBy: { field: 'status', direction: 'desc' } }))),
        ).toEqual(['shared', 'rebuilt-2', 'rebuilt-1']);

        for (const reader of [store, peer]) {
          expect(ids(await everything(reader, issues))).toEqual(['live-1', 'live-2', 'shared']);
          expect(await reader.get(issues, 'rebuilt-1')).toBeNull();
          expect(await reader.get(issues, 'shared')).toEqual(live[1]);
          expect(await reader.checkpoint(projection)).toBe(21n);
        }
      });

      it('checks the staged checkpoint on staged commits', async () => {
        const staged = await stageAndFill();
        const error = await rejection(() =>
          staged.commit(projection, -1n, 30n, [upsert(issues, { id: 'late' })]),
        );
        expect(error).toBeInstanceOf(CheckpointMismatchError);
        expect(error).toMatchObject({ expected: -1n, actual: 15n });
        expect(await staged.get(issues, 'late')).toBeNull();
        await staged.commit(projection, 15n, 16n, [remove(issues, 'rebuilt-1')]);
        expect(ids(await everything(staged, issues))).toEqual(['rebuilt-2', 'shared']);
      });

      it('promotes documents, indexes and checkpoint together; the live projector then resumes from there', async () => {
        const peer = await subject.openPeer();
        const staged = await stageAndFill();
        await staged.promote();

        for (const reader of [store, peer]) {
          expect(await everything(reader, issues)).toEqual(rebuilt);
          expect(await reader.get(issues, 'live-1')).toBeNull();
          expect(await reader.checkpoint(projection)).toBe(15n);
          const eu = await reader.list(issues, { where: { region: 'eu' }, orderBy: byId, limit: 10 });
          expect(ids(eu.items)).toEqual(['rebuilt-2']);
        }
        const error = await rejection(() =>
          store.commit(projection, 20n, 21n, [upsert(issues, { id: 'from-the-old-position' })]),
        );
        expect(error).toBeInstanceOf(CheckpointMismatchError);
        expect(error).toMatchObject({ expected: 20n, actual: 15n });
        expect(await store.get(issues, 'from-the-old-position')).toBeNull();

        await peer.commit(projection, 15n, 16n, [upsert(issues, { id: 'after', status: 'open' })]);
        expect(await store.get(issues, 'after')).toEqual({ id: 'after', status: 'open' });
        expect(await store.checkpoint(projection)).toBe(16n);
      });

      it('promotes a collection that was not live before', async () => {
        const added = uniqueName('added');
        const error = await rejection(() => store.list(added, { orderBy: byId, limit: 10 }));
        expect(error).toBeInstanceOf(InvalidReadQueryError);
        const staged = await store.stage(projection, [issueSpec, { name: added, indexes: ['kind'] }]);
        await staged.commit(projection, -1n, 3n, [
          upsert(added, { id: 'x', kind: 'new' }),
          upsert(issues, { id: 'y', status: 'open' }),
        ]);
        await staged.promote();
        expect(
          ids((await store.list(added, { where: { kind: 'new' }, orderBy: byId, limit: 10 })).items),
        ).toEqual(['x']);
        expect(ids(await everything(store, issues))).toEqual(['y']);
        expect(await store.checkpoint(projection)).toBe(3n);
      });

      it('discards the staged generation, leaving the live one as it was', async () => {
        const staged = await stageAndFill();
        await staged.discard();
        expect(await everything(store, issues)).toEqual(live);
        expect(await store.checkpoint(projection)).toBe(20n);

        const again = await store.stage(projection, [issueSpec]);
        expect(await again.checkpoint(projection)).toBe(-1n);
        expect(await everything(again, issues)).toEqual([]);
        await again.discard();
        expect(await everything(store, issues)).toEqual(live);
      });

      it('starts a new stage of the same projection from empty storage', async () => {
        await stageAndFill();
        const again = await store.stage(projection, [issueSpec]);
        expect(await again.checkpoint(projection)).toBe(-1n);
        expect(await everything(again, issues)).toEqual([]);
        await again.commit(projection, -1n, 1n, [upsert(issues, { id: 'second' })]);
        await again.promote();
        expect(ids(await everything(store, issues))).toEqual(['second']);
        expect(await store.checkpoint(projection)).toBe(1n);
      });
    });
  });
}
