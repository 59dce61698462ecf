import type { ApiKeyRecord, ApiKeyStore } from '@app/ledger';

export interface ApiKeyStoreContractSubject {
  store: ApiKeyStore;
  /** Another handle on the same storage, as a second process would open it (a restart, the CLI). */
  reopen(): Promise<ApiKeyStore>;
  cleanup(): Promise<void>;
}

export type ApiKeyStoreContractFactory = () => Promise<ApiKeyStoreContractSubject>;

const record = (id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id,
  name: `key ${id}`,
  roles: ['agent', 'auditor'],
  secretHash: `hash-of-${id}`,
  createdAt: '2025-01-02T03:04:05.000Z',
  revokedAt: null,
  ...overrides,
});

/** What every ApiKeyStore adapter must do (SQLite now, MongoDB later). */
export function describeApiKeyStoreContract(name: string, factory: ApiKeyStoreContractFactory): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let subject: ApiKeyStoreContractSubject;
    let store: ApiKeyStore;
    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('starts empty', async () => {
      expect(await store.count()).toBe(0);
      expect(await store.list()).toEqual([]);
      expect(await store.findBySecretHash('nothing')).toBeNull();
    });

    it('finds an inserted key by its secret hash, roles and all', async () => {
      await store.insert(record('k1', { roles: ['admin'] }));
      await store.insert(record('k2'));
      expect(await store.findBySecretHash('hash-of-k1')).toEqual(record('k1', { roles: ['admin'] }));
      expect(await store.findBySecretHash('hash-of-k2')).toEqual(record('k2'));
      expect(await store.count()).toBe(2);
    });

    it('keeps names as given, non-ASCII included', async () => {
      await store.insert(record('k1', { name: 'Zoë’s desk ☕' }));
      expect((await store.findBySecretHash('hash-of-k1'))?.name).toBe('Zoë’s desk ☕');
    });

    it('lists keys in creation order, then by id', async () => {
      await store.insert(record('k3', { createdAt: '2025-01-03T00:00:00.000Z' }));
      await store.insert(record('k2', { createdAt: '2025-01-01T00:00:00.000Z' }));
      await store.insert(record('k1', { createdAt: '2025-01-03T00:00:00.000Z' }));
      expect((await store.list()).map((key) => key.id)).toEqual(['k2', 'k1', 'k3']);
    });

    it('revokes a live key once, and a revoked key is still found (the guard refuses it)', async () => {
      await store.insert(record('k1'));
      expect(await store.revoke('k1', '2025-02-01T00:00:00.000Z')).toBe(true);
      expect(await store.revoke('k1', '2025-03-01T00:00:00.000Z')).toBe(false);
      expect(await store.findBySecretHash('hash-of-k1')).toEqual(
        record('k1', { revokedAt: '2025-02-01T00:00:00.000Z' }),
      );
      expect(await store.count()).toBe(1);
    });

    it('reports an unknown id as not revoked', async () => {
      expect(await store.revoke('missing', '2025-02-01T00:00:00.000Z')).toBe(false);
    });

    it('refuses a duplicate id or secret hash, keeping the first', async () => {
      await store.insert(record('k1'));
      await expect(store.insert(record('k1', { secretHash: 'other' }))).rejects.toBeTruthy();
      await expect(store.insert(record('k2', { secretHash: 'hash-of-k1' }))).rejects.toBeTruthy();
      expect(await store.list()).toEqual([record('k1')]);
    });

    it('keeps keys for another handle on the same storage', async () => {
      await store.insert(record('k1'));
      await store.revoke('k1', '2025-02-01T00:00:00.000Z');
      await store.insert(record('k2'));
      const other = await subject.reopen();
      expect(await other.list()).toEqual([
        record('k1', { revokedAt: '2025-02-01T00:00:00.000Z' }),
        record('k2'),
      ]);
    });
  });
}
