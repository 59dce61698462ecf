import type { LeaseStore } from '@app/ledger';

export interface LeaseStoreContractSubject {
  store: LeaseStore;
  /** Another handle on the same storage, as a second projector process would open it. */
  reopen(): Promise<LeaseStore>;
  cleanup(): Promise<void>;
}

/** `now` is the clock every handle of the subject must use, so that expiries are tested without waiting. */
export type LeaseStoreContractFactory = (now: () => number) => Promise<LeaseStoreContractSubject>;

const TTL = 5000;

/** What every LeaseStore adapter must do (embedded SQLite now; MongoDB when its adapter lands). */
export function describeLeaseStoreContract(name: string, factory: LeaseStoreContractFactory): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let subject: LeaseStoreContractSubject;
    let store: LeaseStore;
    let other: LeaseStore;
    let clock: number;
    beforeEach(async () => {
      clock = 1_700_000_000_000;
      subject = await factory(() => clock);
      store = subject.store;
      other = await subject.reopen();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('gives a free lease to the first holder, with token 1 and an expiry ttl away', async () => {
      expect(await store.list()).toEqual([]);
      const lease = await store.acquire('timeline', 'a', TTL);
      expect(lease).toEqual({ name: 'timeline', holder: 'a', token: 1n, expiresAt: clock + TTL });
      expect(await other.list()).toEqual([lease]);
    });

    it('refuses a held lease to another holder, and renews it for its own under the same token', async () => {
      await store.acquire('timeline', 'a', TTL);
      clock += TTL - 1;
      expect(await other.acquire('timeline', 'b', TTL)).toBeNull();
      expect(await other.acquire('timeline', 'a', TTL)).toEqual({
        name: 'timeline',
        holder: 'a',
        token: 1n,
        expiresAt: clock + TTL,
      });
    });

    it('passes an expired lease to the next holder under the next token; the old holder can renew no more', async () => {
      const first = (await store.acquire('timeline', 'a', TTL))!;
      clock += TTL;
      const second = await other.acquire('timeline', 'b', TTL);
      expect(second).toEqual({ name: 'timeline', holder: 'b', token: 2n, expiresAt: clock + TTL });
      expect(await store.renew(first, TTL)).toBeNull();
      // A late release by the old holder leaves the new one's lease alone.
      await store.release(first);
      expect(await store.list()).toEqual([second]);
      expect(await store.acquire('timeline', 'a', TTL)).toBeNull();
    });

    it('renews a held lease by moving its expiry, and keeps an expired one nobody took', async () => {
      const lease = (await store.acquire('timeline', 'a', TTL))!;
      clock += 1000;
      const renewed = await store.renew(lease, TTL);
      expect(renewed).toEqual({ ...lease, expiresAt: clock + TTL });
      clock += TTL + 10;
      expect(await store.renew(renewed!, TTL)).toEqual({ ...lease, expiresAt: clock + TTL });
      expect(await other.acquire('timeline', 'b', TTL)).toBeNull();
    });

    it('lets another holder take a released lease at once, under the next token', async () => {
      const lease = (await store.acquire('timeline', 'a', TTL))!;
      await store.release(lease);
      expect(await store.renew(lease, TTL)).toBeNull();
      expect(await other.acquire('timeline', 'b', TTL)).toMatchObject({ holder: 'b', token: 2n });
      // Taking it back later is a takeover too.
      clock += TTL;
      expect(await store.acquire('timeline', 'a', TTL)).toMatchObject({ holder: 'a', token: 3n });
    });

    it('keeps leases of different names apart', async () => {
      await store.acquire('timeline', 'a', TTL);
      expect(await other.acquire('metrics', 'b', TTL)).toMatchObject({ name: 'metrics', token: 1n });
      expect((await store.list()).map((lease) => [lease.name, lease.holder])).toEqual([
        ['metrics', 'b'],
        ['timeline', 'a'],
      ]);
    });

    it('gives a free lease to exactly one of two holders racing for it', async () => {
      const results = await Promise.all([
        store.acquire('timeline', 'a', TTL),
        other.acquire('timeline', 'b', TTL),
      ]);
      const winners = results.filter((lease) => lease !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.token).toBe(1n);
      expect(await store.list()).toEqual(winners);
    });
  });
}
