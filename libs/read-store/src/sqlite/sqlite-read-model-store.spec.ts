import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { transformFileSync } from '@swc/core';
import type { Database } from 'better-sqlite3';
import { openSqlite } from '@app/event-store';
import {
  CheckpointMismatchError,
  InvalidReadQueryError,
  type DocumentChange,
  type ListQuery,
  type ReadDocument,
} from '@app/ledger';
import { describeReadModelStoreContract } from '../contract/read-model-store.contract';
import {
  SqliteReadModelStore,
  StagedGenerationGoneError,
  type SqliteReadModelStoreOptions,
} from './sqlite-read-model-store';

describeReadModelStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'read-store-contract-'));
  const file = join(dir, 'ledger.db');
  const connections: Database[] = [];
  const stores: SqliteReadModelStore[] = [];
  const open = () => {
    const db = openSqlite(file);
    connections.push(db);
    const store = new SqliteReadModelStore(db);
    stores.push(store);
    return store;
  };
  return {
    store: open(),
    openPeer: async () => open(),
    async cleanup() {
      for (const store of stores) await store.close();
      for (const db of connections) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const upsert = (collection: string, doc: ReadDocument): DocumentChange => ({ collection, id: doc.id, doc });
const ids = (documents: readonly ReadDocument[]) => documents.map((document) => document.id);

/**
 * One racer: its own connection and store, committing round r from r - 1 once every racer has arrived at
 * the round, so the commits really run in parallel. Reports 'won', 'mismatch' or the error per round.
 */
const RACER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const { SqliteReadModelStore } = require(workerData.storeModule);
const { file, arrivals, racers, rounds, racer } = workerData;
(async () => {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  const store = new SqliteReadModelStore(db);
  const outcomes = [];
  for (let round = 0; round < rounds; round++) {
    Atomics.add(arrivals, round, 1);
    Atomics.notify(arrivals, round);
    for (let seen; (seen = Atomics.load(arrivals, round)) < racers; ) Atomics.wait(arrivals, round, seen, 50);
    const own = 'racer-' + racer + '-' + round;
    try {
      await store.commit('race', BigInt(round - 1), BigInt(round), [
        { collection: 'issues', id: 'contested-' + round, doc: { id: 'contested-' + round, racer } },
        { collection: 'issues', id: own, doc: { id: own } },
      ]);
      outcomes.push('won');
    } catch (error) {
      outcomes.push(error.name === 'CheckpointMismatchError' ? 'mismatch' : String(error.code || error.message));
    }
  }
  await store.close();
  db.close();
  parentPort.postMessage(outcomes);
})().catch((error) => parentPort.postMessage([String(error.stack)]));
`;

async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('Expected a rejection');
}

describe('SqliteReadModelStore', () => {
  let dir: string;
  let file: string;
  let connections: Database[];
  let db: Database;
  let store: SqliteReadModelStore;

  const connect = (options?: SqliteReadModelStoreOptions) => {
    const connection = openSqlite(file);
    connections.push(connection);
    return { db: connection, store: new SqliteReadModelStore(connection, options) };
  };
  const schemaNames = () =>
    db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_schema WHERE name LIKE 'rm%' AND type IN ('table', 'index') ORDER BY name",
      )
      .all()
      .map((row) => row.name);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'read-store-'));
    file = join(dir, 'ledger.db');
    connections = [];
    ({ db, store } = connect());
    await store.ensureCollections([{ name: 'issues', indexes: ['status', 'openedAt', 'amount'] }]);
  });

  afterEach(async () => {
    await store.close();
    for (const connection of connections) if (connection.open) connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps documents, indexes and checkpoints across reopening', async () => {
    await store.commit('issue-summary', -1n, 5n, [
      upsert('issues', { id: 'a', status: 'open' }),
      upsert('issues', { id: 'b', status: 'closed' }),
    ]);
    await store.close();
    db.close();

    ({ db, store } = connect());
    expect(await store.checkpoint('issue-summary')).toBe(5n);
    expect(await store.get('issues', 'a')).toEqual({ id: 'a', status: 'open' });
    await store.ensureCollections([{ name: 'issues', indexes: ['status', 'openedAt', 'amount'] }]);
    const open = await store.list('issues', {
      where: { status: 'open' },
      orderBy: { field: 'id', direction: 'asc' },
      limit: 10,
    });
    expect(ids(open.items)).toEqual(['a']);
    expect(schemaNames()).toEqual([
      'rm_checkpoints',
      'rm_collections',
      'rm_issues__g0',
      'rm_meta',
      'rm_staged',
      'rmi_issues__g0__amount',
      'rmi_issues__g0__openedAt',
      'rmi_issues__g0__status',
    ]);
  });

  describe('query plans', () => {
    beforeEach(async () => {
      await store.commit(
        'issue-summary',
        -1n,
        0n,
        Array.from({ length: 300 }, (_, n) =>
          upsert('issues', {
            id: `i-${n}`,
            status: ['open', 'resolved', 'closed'][n % 3],
            openedAt: n % 5 === 0 ? null : `2025-02-${String((n % 28) + 1).padStart(2, '0')}`,
            amount: n * 10,
          }),
        ),
      );
    });

    const plan = (query: ListQuery) => store.queryPlan('issues', query);
    const cursorAfter = async (query: ListQuery, pages: number) => {
      let cursor: string | undefined;
      for (let page = 0; page < pages; page++)
        cursor = (await store.list('issues', { ...query, cursor })).nextCursor!;
      return cursor;
    };

    it('with sortedBy, a filter plus that sort walks one index in order (no sort of the matches)', async () => {
      await store.ensureCollections([
        { name: 'sorted', indexes: ['status', 'openedAt'], sortedBy: 'openedAt' },
      ]);
      await store.commit(
        'sorted-projection',
        -1n,
        0n,
        Array.from({ length: 200 }, (_, n) =>
          upsert('sorted', {
            id: `s-${n}`,
            status: ['open', 'closed'][n % 2],
            openedAt: `2025-03-${String((n % 28) + 1).padStart(2, '0')}`,
          }),
        ),
      );
      const query: ListQuery = {
        where: { status: 'open' },
        orderBy: { field: 'openedAt', direction: 'desc' },
        limit: 10,
      };
      const steps = await store.queryPlan('sorted', query);
      expect(steps.join('\n')).toContain('rmi_sorted__g0__status__by_openedAt');
      expect(steps.join('\n')).not.toContain('TEMP B-TREE');
      const page = await store.list('sorted', query);
      const openedAts = page.items.map((item) => item.openedAt as string);
      expect(openedAts).toEqual([...openedAts].sort().reverse());
      expect(page.items.every((item) => item.status === 'open')).toBe(true);
      await expect(
        store.ensureCollections([{ name: 'bad', indexes: ['status'], sortedBy: 'openedAt' }]),
      ).rejects.toThrow('does not index');
    });

    it('filters and sorts through the field indexes, seeking to the cursor', async () => {
      const byOpenedAt: ListQuery = { orderBy: { field: 'openedAt', direction: 'asc' }, limit: 10 };
      expect(await plan({ ...byOpenedAt, where: { status: 'open' } })).toEqual([
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__status (k_status=?)',
        'USE TEMP B-TREE FOR ORDER BY',
      ]);
      expect(await plan(byOpenedAt)).toEqual(['SCAN rm_issues__g0 USING INDEX rmi_issues__g0__openedAt']);
      // 60 nulls sort first: after eight pages of ten the cursor holds a date, after one it holds null.
      expect(await plan({ ...byOpenedAt, cursor: await cursorAfter(byOpenedAt, 8) })).toEqual([
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__openedAt ((k_openedAt,id)>(?,?))',
      ]);
      expect(await plan({ ...byOpenedAt, cursor: await cursorAfter(byOpenedAt, 1) })).toEqual([
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__openedAt (k_openedAt=? AND id>?)',
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__openedAt (k_openedAt>?)',
      ]);
      const descending: ListQuery = { orderBy: { field: 'amount', direction: 'desc' }, limit: 10 };
      expect(await plan({ ...descending, cursor: await cursorAfter(descending, 2) })).toEqual([
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__amount ((k_amount,id)<(?,?))',
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__amount (k_amount=?)',
      ]);
      expect(await plan({ ...descending, where: { amount: { gte: 100, lt: 200 } } })).toEqual([
        'SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__amount (k_amount>? AND k_amount<?)',
      ]);
      expect(
        await plan({
          where: { status: { in: ['open', 'closed'] } },
          orderBy: { field: 'amount', direction: 'asc' },
          limit: 5,
        }),
      ).toEqual(
        expect.arrayContaining(['SEARCH rm_issues__g0 USING INDEX rmi_issues__g0__status (k_status=?)']),
      );
      const byId: ListQuery = { orderBy: { field: 'id', direction: 'desc' }, limit: 10 };
      expect(await plan({ ...byId, cursor: await cursorAfter(byId, 1) })).toEqual([
        'SEARCH rm_issues__g0 USING INDEX sqlite_autoindex_rm_issues__g0_1 (id<?)',
      ]);
    });

    it('uses an index added by ensureCollections for existing documents', async () => {
      const byRegion: ListQuery = {
        where: { region: 'eu' },
        orderBy: { field: 'id', direction: 'asc' },
        limit: 5,
      };
      expect(await rejection(() => plan(byRegion))).toBeInstanceOf(InvalidReadQueryError);
      await store.commit('issue-summary', 0n, 1n, [upsert('issues', { id: 'eu-1', region: 'eu' })]);
      await store.ensureCollections([{ name: 'issues', indexes: ['region'] }]);
      expect((await plan(byRegion))[0]).toMatch(/USING INDEX rmi_issues__g0__region \(k_region=\?\)/);
      expect(ids((await store.list('issues', byRegion)).items)).toEqual(['eu-1']);
      // Indexes are only added: status stays queryable though the second spec left it out.
      expect((await store.list('issues', { ...byRegion, where: { status: 'open' } })).items).toHaveLength(5);
    });
  });

  describe('key columns', () => {
    const byStatus = (status: unknown): ListQuery => ({
      where: { status: status as string },
      orderBy: { field: 'id', direction: 'asc' },
      limit: 50,
    });
    const statusesOf = async (values: unknown[]) =>
      Promise.all(values.map(async (value) => ids((await store.list('issues', byStatus(value))).items)));

    it('moves a document between filters when an update changes some of its indexed values only', async () => {
      await store.commit('p', -1n, 0n, [
        upsert('issues', { id: 'a', status: 'open', openedAt: '2026-01-01', amount: 5, note: 1 }),
        upsert('issues', { id: 'b', status: 'open', openedAt: '2026-01-02', amount: 7 }),
      ]);
      // a: a non-indexed field only; b: status and amount change, openedAt stays.
      await store.commit('p', 0n, 1n, [
        upsert('issues', { id: 'a', status: 'open', openedAt: '2026-01-01', amount: 5, note: 2 }),
        upsert('issues', { id: 'b', status: 'resolved', openedAt: '2026-01-02', amount: 9 }),
      ]);
      expect(await statusesOf(['open', 'resolved'])).toEqual([['a'], ['b']]);
      const byAmount = (amount: number) =>
        store.list('issues', {
          where: { amount },
          orderBy: { field: 'openedAt', direction: 'asc' },
          limit: 5,
        });
      expect(ids((await byAmount(9)).items)).toEqual(['b']);
      expect((await byAmount(7)).items).toEqual([]);
      expect(await store.get('issues', 'a')).toEqual({
        id: 'a',
        status: 'open',
        openedAt: '2026-01-01',
        amount: 5,
        note: 2,
      });
      // A field dropped from the document reads as null again; booleans are stored as json_extract reads them.
      await store.commit('p', 1n, 2n, [
        upsert('issues', { id: 'b', openedAt: '2026-01-02', amount: 9 }),
        upsert('issues', { id: 'a', status: true, openedAt: '2026-01-01', amount: 5 }),
      ]);
      expect(await statusesOf([null, true, 'resolved'])).toEqual([['b'], ['a'], []]);
    });

    it('keeps working on tables of the earlier layout (generated key columns) and adds fields to them alike', async () => {
      const old = 'rm_legacy__g0';
      db.exec(
        `CREATE TABLE "${old}" (id TEXT PRIMARY KEY, doc TEXT NOT NULL,
           "k_status" GENERATED ALWAYS AS (json_extract(doc, '$.status')) VIRTUAL)`,
      );
      db.exec(`CREATE INDEX "rmi_legacy__g0__status" ON "${old}" ("k_status", id)`);
      db.prepare("INSERT INTO rm_collections (name, generation, indexes) VALUES ('legacy', 0, ?)").run(
        JSON.stringify(['status']),
      );
      const reopened = connect().store;
      await reopened.ensureCollections([{ name: 'legacy', indexes: ['status', 'region'] }]);
      await reopened.commit('p', -1n, 0n, [
        upsert('legacy', { id: 'x', status: 'open', region: 'eu' }),
        upsert('legacy', { id: 'y', status: 'open', region: 'us' }),
      ]);
      await reopened.commit('p', 0n, 1n, [upsert('legacy', { id: 'y', status: 'closed', region: 'us' })]);
      const list = async (where: Record<string, string>) =>
        ids(
          (await reopened.list('legacy', { where, orderBy: { field: 'id', direction: 'asc' }, limit: 5 }))
            .items,
        );
      expect([
        await list({ status: 'open' }),
        await list({ status: 'closed' }),
        await list({ region: 'eu' }),
      ]).toEqual([['x'], ['y'], ['x']]);
      const hidden = db
        .prepare<[string], { name: string; hidden: number }>(
          "SELECT name, hidden FROM pragma_table_xinfo(?) WHERE name LIKE 'k%' ORDER BY name",
        )
        .all(old);
      expect(hidden).toEqual([
        { name: 'k_region', hidden: 2 },
        { name: 'k_status', hidden: 2 },
      ]);
    });
  });

  describe('transaction boundary', () => {
    beforeEach(async () => {
      await store.commit('issue-summary', -1n, 1n, [
        upsert('issues', { id: 'a', status: 'open', version: 1 }),
      ]);
    });

    const expectUntouched = async () => {
      expect(await store.checkpoint('issue-summary')).toBe(1n);
      expect(await store.get('issues', 'a')).toEqual({ id: 'a', status: 'open', version: 1 });
      expect((await store.getMany('issues', ['b', 'c', 'd'])).size).toBe(0);
    };

    it('rolls back every change and the checkpoint when a document fails to serialise mid-batch', async () => {
      const error = await rejection(() =>
        store.commit('issue-summary', 1n, 2n, [
          upsert('issues', { id: 'b', status: 'open' }),
          { collection: 'issues', id: 'a', doc: null },
          upsert('issues', { id: 'c', status: 'open', total: 10n as unknown as number }),
          upsert('issues', { id: 'd', status: 'open' }),
        ]),
      );
      expect((error as Error).message).toMatch(/issues\/c is not JSON/);
      await expectUntouched();
      await store.commit('issue-summary', 1n, 2n, [upsert('issues', { id: 'b', status: 'open' })]);
      expect(await store.checkpoint('issue-summary')).toBe(2n);
    });

    it('refuses, writing nothing, documents that break the index contract or name an unknown collection', async () => {
      const batches: DocumentChange[][] = [
        [upsert('issues', { id: 'b' }), upsert('issues', { id: 'c', status: { nested: true } })],
        [upsert('issues', { id: 'b' }), { collection: 'issues', id: 'c', doc: { id: 'not-c' } }],
        [upsert('issues', { id: 'b' }), upsert('nowhere', { id: 'c' })],
      ];
      for (const batch of batches) {
        expect(await rejection(() => store.commit('issue-summary', 1n, 2n, batch))).toBeInstanceOf(Error);
        await expectUntouched();
      }
      expect(await rejection(() => store.commit('issue-summary', 1n, 2n, batches[2]))).toBeInstanceOf(
        InvalidReadQueryError,
      );
    });

    it('fails, writing nothing, when another connection holds the write lock past busy_timeout', async () => {
      const other = connect().db;
      db.pragma('busy_timeout = 50');
      other.exec('BEGIN IMMEDIATE');
      try {
        const error = await rejection(() =>
          store.commit('issue-summary', 1n, 2n, [upsert('issues', { id: 'b', status: 'open' })]),
        );
        expect(error).toMatchObject({ code: 'SQLITE_BUSY' });
      } finally {
        other.exec('ROLLBACK');
      }
      await expectUntouched();
      await store.commit('issue-summary', 1n, 2n, [upsert('issues', { id: 'b', status: 'open' })]);
      expect(await store.checkpoint('issue-summary')).toBe(2n);
    });

    it('lets exactly one of several threads racing the same batch win', async () => {
      // The store compiled for plain Node, its two ledger errors shimmed: worker threads bypass jest's loader.
      const shim = join(dir, 'ledger-shim.js');
      writeFileSync(
        shim,
        `class CheckpointMismatchError extends Error { name = 'CheckpointMismatchError'; }
         class InvalidReadQueryError extends Error { name = 'InvalidReadQueryError'; }
         module.exports = { CheckpointMismatchError, InvalidReadQueryError };`,
      );
      // The store and the one module of its own it requires, compiled beside the shim.
      const compiled = (file: string) =>
        transformFileSync(file, {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs' },
        }).code.replace('require("@app/ledger")', `require(${JSON.stringify(shim)})`);
      const listQuery = join(dir, 'list-query.js');
      writeFileSync(listQuery, compiled(join(__dirname, '..', 'list-query.ts')));
      const storeModule = join(dir, 'store.js');
      writeFileSync(
        storeModule,
        compiled(join(__dirname, 'sqlite-read-model-store.ts')).replace(
          'require("../list-query")',
          `require(${JSON.stringify(listQuery)})`,
        ),
      );

      const racers = 3;
      const rounds = 40;
      const arrivals = new Int32Array(new SharedArrayBuffer(4 * rounds));
      const betterSqlite3 = require.resolve('better-sqlite3');
      const outcomes = await Promise.all(
        Array.from({ length: racers }, (_, racer) => {
          const worker = new Worker(RACER_SOURCE, {
            eval: true,
            workerData: { file, storeModule, betterSqlite3, arrivals, racers, rounds, racer },
          });
          return new Promise<string[]>((resolve, reject) => {
            let result: string[] = [];
            worker.on('message', (message: string[]) => (result = message));
            worker.on('error', reject);
            worker.on('exit', () => resolve(result));
          });
        }),
      );

      for (let round = 0; round < rounds; round++) {
        const results = outcomes.map((racer) => racer[round]);
        expect({ round, results: [...results].sort() }).toEqual({
          round,
          results: ['mismatch', 'mismatch', 'won'],
        });
        const winner = results.indexOf('won');
        expect(await store.get('issues', `contested-${round}`)).toEqual({
          id: `contested-${round}`,
          racer: winner,
        });
        const own = await store.getMany(
          'issues',
          outcomes.map((_, racer) => `racer-${racer}-${round}`),
        );
        expect([...own.keys()]).toEqual([`racer-${winner}-${round}`]);
      }
      expect(await store.checkpoint('race')).toBe(BigInt(rounds - 1));
    });

    it('never applies a batch twice across connections', async () => {
      const peer = connect().store;
      const batch = [upsert('issues', { id: 'b', status: 'open' })];
      await peer.commit('issue-summary', 1n, 2n, batch);
      expect(await rejection(() => store.commit('issue-summary', 1n, 2n, batch))).toBeInstanceOf(
        CheckpointMismatchError,
      );
      expect(await store.checkpoint('issue-summary')).toBe(2n);
    });
  });

  it('commits 10,000 changes well under a second', async () => {
    await store.ensureCollections([{ name: 'bulk', indexes: ['status', 'customerId', 'openedAt'] }]);
    const batch = (version: number) =>
      Array.from({ length: 10_000 }, (_, n) =>
        upsert('bulk', {
          id: `issue-${n}`,
          status: ['open', 'resolved', 'closed'][(n + version) % 3],
          customerId: `customer-${n % 997}`,
          openedAt: `2025-03-${String((n % 28) + 1).padStart(2, '0')}T10:00:00.000Z`,
          version,
          history: [{ type: 'IssueOpened', at: '2025-03-01T10:00:00.000Z', note: 'x'.repeat(100) }],
        }),
      );
    const inserts = batch(1);
    const updates = batch(2);
    const started = performance.now();
    await store.commit('bulk', -1n, 0n, inserts);
    const inserted = performance.now();
    await store.commit('bulk', 0n, 1n, updates);
    const updated = performance.now();
    expect(inserted - started).toBeLessThan(1000);
    expect(updated - inserted).toBeLessThan(1000);
    expect(db.prepare('SELECT count(*) AS count FROM rm_bulk__g0').get()).toEqual({ count: 10_000 });
    expect(await store.get('bulk', 'issue-9999')).toMatchObject({ version: 2, status: 'closed' });
  });

  describe('writeLock', () => {
    it('runs each outermost write transaction (live, staged, promote) once, and no read', async () => {
      const held: string[] = [];
      let inside = false;
      const { store: locked } = connect({
        writeLock: (work) => {
          // Not re-entered: a nested write (a relaxed staged commit) runs inside the outer one.
          expect(inside).toBe(false);
          inside = true;
          held.push(db.inTransaction ? 'in a transaction' : 'outside');
          try {
            return work();
          } finally {
            inside = false;
          }
        },
      });
      await locked.ensureCollections([{ name: 'issues', indexes: ['status', 'openedAt', 'amount'] }]);
      const afterEnsure = held.length;
      await locked.commit('issue-summary', -1n, 1n, [upsert('issues', { id: 'a', status: 'open' })]);
      expect(held.length).toBe(afterEnsure + 1);
      await locked.get('issues', 'a');
      await locked.list('issues', { orderBy: { field: 'id', direction: 'asc' }, limit: 5 });
      expect(held.length).toBe(afterEnsure + 1);
      const staged = await locked.stage('issue-summary', [{ name: 'issues', indexes: ['status'] }]);
      const beforeStagedCommit = held.length;
      await staged.commit('issue-summary', -1n, 2n, [upsert('issues', { id: 'b', status: 'open' })]);
      expect(held.length).toBe(beforeStagedCommit + 1);
      await staged.promote();
      expect(held.length).toBeGreaterThan(beforeStagedCommit + 1);
      // Each was taken before BEGIN, never inside a transaction already open.
      expect(new Set(held)).toEqual(new Set(['outside']));
      expect(
        ids((await store.list('issues', { orderBy: { field: 'id', direction: 'asc' }, limit: 5 })).items),
      ).toEqual(['b']);
    });

    it('does not hold the lock while serialising documents: a document that is not JSON fails before it', async () => {
      let taken = 0;
      const { store: locked } = connect({
        writeLock: (work) => {
          taken++;
          return work();
        },
      });
      const cyclic: Record<string, unknown> = { id: 'c' };
      cyclic.self = cyclic;
      await expect(
        locked.commit('issue-summary', -1n, 1n, [
          { collection: 'issues', id: 'c', doc: cyclic as ReadDocument },
        ]),
      ).rejects.toThrow(/not JSON/);
      expect(taken).toBe(0);
    });
  });

  describe('staged generations', () => {
    const spec = { name: 'issues', indexes: ['status'] };
    const synchronous = () => db.pragma('synchronous', { simple: true });

    it('promotes by switching the registry and dropping the old tables in the same transaction', async () => {
      await store.commit('issue-summary', -1n, 7n, [upsert('issues', { id: 'old' })]);
      const staged = await store.stage('issue-summary', [spec]);
      // Bulk-loaded without its indexes; they are built once, at promote.
      expect(schemaNames()).toEqual(expect.arrayContaining(['rm_issues__g0', 'rm_issues__g1']));
      expect(schemaNames()).not.toContain('rmi_issues__g1__status');
      await staged.commit('issue-summary', -1n, 3n, [upsert('issues', { id: 'new', status: 'open' })]);
      await staged.promote();

      expect(schemaNames().filter((name) => name.startsWith('rm_issues') || name.startsWith('rmi_'))).toEqual(
        ['rm_issues__g1', 'rmi_issues__g1__status'],
      );
      expect(db.prepare('SELECT name, generation, indexes FROM rm_collections').all()).toEqual([
        { name: 'issues', generation: 1, indexes: '["status"]' },
      ]);
      expect(db.prepare('SELECT projection, position, generation FROM rm_checkpoints').all()).toEqual([
        { projection: 'issue-summary', position: 3, generation: 1 },
      ]);
      expect(db.prepare('SELECT count(*) AS count FROM rm_staged').get()).toEqual({ count: 0 });
      expect(
        ids((await store.list('issues', { orderBy: { field: 'id', direction: 'asc' }, limit: 5 })).items),
      ).toEqual(['new']);
    });

    it('drops the staged tables on discard, and never reuses a generation number', async () => {
      const first = await store.stage('issue-summary', [spec]);
      await first.discard();
      await first.discard();
      expect(schemaNames().filter((name) => name.includes('issues'))).toEqual([
        'rm_issues__g0',
        'rmi_issues__g0__amount',
        'rmi_issues__g0__openedAt',
        'rmi_issues__g0__status',
      ]);
      const second = await store.stage('issue-summary', [spec]);
      expect(schemaNames()).toContain('rm_issues__g2');
      expect(await rejection(() => first.checkpoint('issue-summary'))).toBeInstanceOf(
        StagedGenerationGoneError,
      );
      await second.discard();
    });

    it('refuses to work through a staged object that was promoted, discarded or restaged', async () => {
      const first = await store.stage('issue-summary', [spec]);
      const second = await store.stage('issue-summary', [spec]);
      expect(schemaNames()).not.toContain('rm_issues__g1');
      for (const work of [
        () => first.get('issues', 'a'),
        () => first.commit('issue-summary', -1n, 1n, []),
        () => first.promote(),
      ]) {
        expect(await rejection(work)).toBeInstanceOf(StagedGenerationGoneError);
      }
      await first.discard();
      await second.commit('issue-summary', -1n, 1n, [upsert('issues', { id: 'kept' })]);
      await second.promote();
      expect(await store.get('issues', 'kept')).toEqual({ id: 'kept' });
      expect(await rejection(() => second.commit('issue-summary', 1n, 2n, []))).toBeInstanceOf(
        StagedGenerationGoneError,
      );
      expect(await rejection(() => second.checkpoint('other-projection'))).toBeInstanceOf(Error);
    });

    it('commits staged batches with relaxed durability, restoring synchronous afterwards', async () => {
      expect(synchronous()).toBe(2);
      const staged = await store.stage('issue-summary', [spec]);
      await staged.commit('issue-summary', -1n, 1n, [upsert('issues', { id: 'a' })]);
      expect(synchronous()).toBe(2);
      await rejection(() =>
        staged.commit('issue-summary', 1n, 2n, [upsert('issues', { id: 'b', n: 1n as never })]),
      );
      expect(synchronous()).toBe(2);
      await rejection(() => staged.commit('issue-summary', 7n, 8n, []));
      expect(synchronous()).toBe(2);
      db.pragma('synchronous = NORMAL');
      await staged.commit('issue-summary', 1n, 2n, [upsert('issues', { id: 'b' })]);
      expect(synchronous()).toBe(1);
      expect(await staged.checkpoint('issue-summary')).toBe(2n);
      expect(await staged.get('issues', 'b')).toEqual({ id: 'b' });
    });
    it('checkpoints staged commits only past 10,000 WAL pages, restoring wal_autocheckpoint afterwards', async () => {
      const autocheckpoint = () => db.pragma('wal_autocheckpoint', { simple: true });
      const databasePages = () => statSync(file).size / 4096;
      // About 3,000 pages of documents a commit: past SQLite's default of 1,000, short of 10,000.
      const big = 'x'.repeat(3000);
      const docs = (prefix: string) =>
        Array.from({ length: 3000 }, (_, n) => upsert('issues', { id: `${prefix}-${n}`, big }));
      expect(autocheckpoint()).toBe(1000);
      const staged = await store.stage('issue-summary', [spec]);
      db.pragma('wal_checkpoint(TRUNCATE)');
      let before = databasePages();
      await staged.commit('issue-summary', -1n, 1n, docs('staged'));
      expect(autocheckpoint()).toBe(1000);
      // Not checkpointed: the commit's pages are all in the WAL, none copied into the database file yet.
      expect(databasePages()).toBe(before);

      // A live commit keeps the connection's own setting: as many pages are checkpointed at its end.
      db.pragma('wal_checkpoint(TRUNCATE)');
      before = databasePages();
      await store.commit('issue-summary', -1n, 1n, docs('live'));
      expect(databasePages()).toBeGreaterThan(before + 2500);

      // Automatic checkpoints turned off stay off.
      db.pragma('wal_autocheckpoint = 0');
      await staged.commit('issue-summary', 1n, 2n, [upsert('issues', { id: 'after' })]);
      expect(autocheckpoint()).toBe(0);
    });
  });

  describe('queries', () => {
    it('scans page by page with no transaction open while the caller awaits', async () => {
      const small = connect({ scanPageSize: 3 });
      const documents = Array.from({ length: 20 }, (_, n) => ({
        id: `d-${String(n).padStart(2, '0')}`,
        status: n % 3 === 0 ? null : `s-${n % 4}`,
      }));
      await store.commit(
        'issue-summary',
        -1n,
        0n,
        documents.map((d) => upsert('issues', d)),
      );
      const seen: string[] = [];
      for await (const document of small.store.scan('issues', {
        orderBy: { field: 'status', direction: 'desc' },
      })) {
        expect(small.db.inTransaction).toBe(false);
        seen.push(document.id);
        // Another connection writes mid-scan: the scan neither blocks it nor is broken by it.
        if (seen.length === 4) {
          await store.commit('issue-summary', 0n, 1n, [upsert('issues', { id: 'd-99', status: null })]);
        }
      }
      const expected = [...documents, { id: 'd-99', status: null }]
        .sort((a, b) => {
          if (a.status !== b.status) {
            if (a.status === null) return 1;
            if (b.status === null) return -1;
            return a.status < b.status ? 1 : -1;
          }
          return a.id < b.id ? 1 : -1;
        })
        .map((d) => d.id);
      expect(seen).toEqual(expected);
    });

    it('pages through floats exactly, whatever SQLite makes of their decimal text', async () => {
      const amounts = Array.from({ length: 40 }, (_, n) => (n % 4 === 0 ? 0.1 : Math.PI * n * 1e-3 + 1 / 3));
      await store.commit(
        'issue-summary',
        -1n,
        0n,
        amounts.map((amount, n) => upsert('issues', { id: `f-${String(n).padStart(2, '0')}`, amount })),
      );
      const query: ListQuery = { orderBy: { field: 'amount', direction: 'asc' }, limit: 3 };
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list('issues', { ...query, cursor });
        paged.push(...ids(page.items));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect([...paged].sort()).toEqual(amounts.map((_, n) => `f-${String(n).padStart(2, '0')}`));
      expect(new Set(paged).size).toBe(40);
      const tenth = await store.list('issues', { where: { amount: 0.1 }, orderBy: query.orderBy, limit: 10 });
      expect(ids(tenth.items)).toEqual(
        amounts.flatMap((amount, n) => (amount === 0.1 ? [`f-${String(n).padStart(2, '0')}`] : [])),
      );
      expect(tenth.items).toHaveLength(10);
    });

    it('keeps ranges to the type of their bounds and takes only strings for id', async () => {
      await store.commit('issue-summary', -1n, 0n, [
        upsert('issues', { id: 'number', status: 5 as never }),
        upsert('issues', { id: 'string', status: 'b' }),
        upsert('issues', { id: 'null', status: null }),
      ]);
      const list = (where: ListQuery['where']) =>
        store.list('issues', { where, orderBy: { field: 'id', direction: 'asc' }, limit: 10 });
      expect(ids((await list({ status: { gt: 0 } })).items)).toEqual(['number']);
      expect(ids((await list({ status: { lt: 'z' } })).items)).toEqual(['string']);
      for (const where of [
        { status: { gte: 0, lte: 'z' } },
        { status: { gt: null } },
        { status: { lt: true } },
        { id: 5 },
        { id: { in: ['a', 5] } },
        { id: { gt: 1 } },
      ] as ListQuery['where'][]) {
        expect(await rejection(() => list(where))).toBeInstanceOf(InvalidReadQueryError);
      }
    });

    it('ties a cursor to its orderBy', async () => {
      await store.commit(
        'issue-summary',
        -1n,
        0n,
        ['a', 'b', 'c'].map((id) => upsert('issues', { id, status: 'open' })),
      );
      const { nextCursor } = await store.list('issues', {
        orderBy: { field: 'status', direction: 'asc' },
        limit: 1,
      });
      expect(nextCursor).toEqual(expect.any(String));
      for (const orderBy of [
        { field: 'status', direction: 'desc' },
        { field: 'id', direction: 'asc' },
      ] as const) {
        const error = await rejection(() => store.list('issues', { orderBy, limit: 1, cursor: nextCursor! }));
        expect(error).toBeInstanceOf(InvalidReadQueryError);
      }
    });
  });

  it('rejects collection specs whose names cannot be stored safely, creating nothing', async () => {
    const before = schemaNames();
    for (const spec of [
      { name: 'Issues', indexes: [] },
      { name: 'issues"; DROP TABLE rm_collections; --', indexes: [] },
      { name: 'fine', indexes: ['a__b'] },
      { name: 'fine', indexes: ["status'"] },
      { name: 'fine', indexes: ['status', 'Status'] },
    ]) {
      expect(
        await rejection(() => store.ensureCollections([{ name: 'ok', indexes: [] }, spec])),
      ).toBeInstanceOf(Error);
      expect(await rejection(() => store.stage('p', [spec]))).toBeInstanceOf(Error);
    }
    expect(
      await rejection(() => store.ensureCollections([{ name: 'issues', indexes: ['STATUS'] }])),
    ).toBeInstanceOf(Error);
    expect(schemaNames()).toEqual(before);
  });

  it('leaves the connection open on close unless it owns it', async () => {
    await store.close();
    expect(db.open).toBe(true);
    expect(await rejection(() => store.get('issues', 'a'))).toBeInstanceOf(Error);
    const owned = connect({ closeDatabase: true });
    await owned.store.close();
    expect(owned.db.open).toBe(false);
  });
});
