import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openSqlite } from '@app/event-store';
import { LeaseLostError, projectionLeaseName, type Lease } from '@app/ledger';
import { SqliteLeaseStore, SqliteReadModelStore } from '@app/read-store';
import { ConfigurationError } from '../config';
import { COMMIT_LOG_TABLE, leaseGuard, projectorLeaseSettings } from './projector-leases';

const COLLECTION = { name: 'things', indexes: [] };
const TTL = 1000;

/** One projector process's view of the file: its connection, lease store and guarded read-model store. */
function instance(file: string, holder: string, now: () => number) {
  const db: Database = openSqlite(file);
  const leases = new SqliteLeaseStore(db, { now });
  const held = new Map<string, Lease>();
  const host = { leaseToken: (projection: string) => held.get(projection)?.token };
  const store = new SqliteReadModelStore(db, { guard: leaseGuard(db, leases, () => host, holder, true) });
  return {
    db,
    store,
    async take(projection: string) {
      const lease = await leases.acquire(projectionLeaseName(projection), holder, TTL);
      if (lease) held.set(projection, lease);
      return lease;
    },
  };
}

describe('the lease guard on the read-model store commit path', () => {
  let dir: string;
  let clock: number;
  let a: ReturnType<typeof instance>;
  let b: ReturnType<typeof instance>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lease-guard-'));
    clock = 1_000_000;
    const file = join(dir, 'ledger.db');
    a = instance(file, 'a', () => clock);
    b = instance(file, 'b', () => clock);
    await a.store.ensureCollections([COLLECTION]);
  });
  afterEach(() => {
    a.db.close();
    b.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const change = (id: string, by: string) => ({ collection: 'things', id, doc: { id, by } });
  const log = () =>
    a.db
      .prepare(`SELECT projection, from_position, to_position, holder FROM ${COMMIT_LOG_TABLE} ORDER BY seq`)
      .all();

  it('refuses, writing nothing, a commit by a holder that woke up after its lease was taken over', async () => {
    expect(await a.take('p')).toMatchObject({ token: 1n });
    await a.store.commit('p', -1n, 10n, [change('x', 'a')]);
    // a pauses past its expiry; b takes the projection over and commits the next range.
    clock += TTL;
    expect(await b.take('p')).toMatchObject({ token: 2n });
    await b.store.commit('p', 10n, 20n, [change('y', 'b')]);
    // a wakes up with a batch read before the pause, from the checkpoint it last saw; and one from the
    // current checkpoint: both refused by the fence.
    await expect(a.store.commit('p', 20n, 30n, [change('z', 'a')])).rejects.toBeInstanceOf(LeaseLostError);
    const [refused] = await a.store.commitTogether([
      { projection: 'p', from: 20n, to: 30n, changes: [change('z', 'a')] },
    ]);
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect(await a.store.checkpoint('p')).toBe(20n);
    expect(await a.store.get('things', 'z')).toBeNull();
    expect(log()).toEqual([
      { projection: 'p', from_position: -1, to_position: 10, holder: 'a' },
      { projection: 'p', from_position: 10, to_position: 20, holder: 'b' },
    ]);
  });

  it('refuses a commit without the lease, and fences one projection of a shared transaction alone', async () => {
    await expect(a.store.commit('p', -1n, 5n, [change('x', 'a')])).rejects.toBeInstanceOf(LeaseLostError);
    await a.take('q');
    const results = await a.store.commitTogether([
      { projection: 'p', from: -1n, to: 5n, changes: [change('x', 'a')] },
      { projection: 'q', from: -1n, to: 5n, changes: [change('y', 'a')] },
    ]);
    expect(results[0]).toBeInstanceOf(LeaseLostError);
    expect(results[1]).toBeNull();
    expect(await a.store.checkpoint('p')).toBe(-1n);
    expect(await a.store.checkpoint('q')).toBe(5n);
    expect(log()).toEqual([{ projection: 'q', from_position: -1, to_position: 5, holder: 'a' }]);
  });
});

describe('projectorLeaseSettings', () => {
  it('defaults to leases of 5 s renewed every 1.5 s, without the commit log', () => {
    expect(projectorLeaseSettings({})).toEqual({ ttlMs: 5000, renewMs: 1500, commitLog: false });
  });

  it('reads the environment, and refuses what would make no sense', () => {
    expect(
      projectorLeaseSettings({
        LEDGER_PROJECTOR_LEASE_TTL_MS: '900',
        LEDGER_PROJECTOR_LEASE_RENEW_MS: '200',
        LEDGER_PROJECTOR_COMMIT_LOG: '1',
      }),
    ).toEqual({ ttlMs: 900, renewMs: 200, commitLog: true });
    expect(projectorLeaseSettings({ LEDGER_PROJECTOR_LEASE_TTL_MS: '900' }).renewMs).toBe(300);
    expect(() => projectorLeaseSettings({ LEDGER_PROJECTOR_LEASE_TTL_MS: '-1' })).toThrow(
      /LEDGER_PROJECTOR_LEASE_TTL_MS must be a positive whole number/,
    );
    expect(() =>
      projectorLeaseSettings({
        LEDGER_PROJECTOR_LEASE_TTL_MS: '1000',
        LEDGER_PROJECTOR_LEASE_RENEW_MS: '1000',
      }),
    ).toThrow(/must be below LEDGER_PROJECTOR_LEASE_TTL_MS/);
    expect(() => projectorLeaseSettings({ LEDGER_PROJECTOR_COMMIT_LOG: 'yes' })).toThrow(/0 or 1/);
  });

  it('refuses a bad value as a configuration error, which the projector prints as one line without a stack', () => {
    for (const env of [
      { LEDGER_PROJECTOR_LEASE_TTL_MS: 'soon' },
      { LEDGER_PROJECTOR_LEASE_TTL_MS: '1000', LEDGER_PROJECTOR_LEASE_RENEW_MS: '2000' },
      { LEDGER_PROJECTOR_COMMIT_LOG: 'yes' },
    ]) {
      expect(() => projectorLeaseSettings(env)).toThrow(ConfigurationError);
    }
  });
});
