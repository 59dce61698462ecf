import type { IdempotencyRecord, IdempotencyStore } from '@app/ledger';

export interface IdempotencyStoreContractSubject {
  store: IdempotencyStore;
  /** Another handle on the same storage, as another process of the ledger would open it. */
  reopen(): Promise<IdempotencyStore>;
  cleanup(): Promise<void>;
}

export type IdempotencyStoreContractFactory = () => Promise<IdempotencyStoreContractSubject>;

const scopeOf = (name: string): string => name.padEnd(64, '0');

const recordOf = (name: string, overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  scope: scopeOf(name),
  requestHash: `request-${name}`.padEnd(64, 'f'),
  status: 201,
  answer: {
    kind: 'outcome',
    stream: `issue-${name}`,
    revision: 0,
    position: '1',
    extra: { issueId: name, note: 'Zoë ☕' },
    changed: true,
  },
  createdAt: '2025-06-01T12:00:00.000Z',
  ...overrides,
});

/**
 * What every IdempotencyStore adapter must do (SQLite now, MongoDB later): records are written once per
 * scope, never replaced, and given back exactly as written.
 */
export function describeIdempotencyStoreContract(
  name: string,
  factory: IdempotencyStoreContractFactory,
): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let subject: IdempotencyStoreContractSubject;
    let store: IdempotencyStore;
    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('has no record for an unused scope', async () => {
      expect(await store.get(scopeOf('absent'))).toBeNull();
    });

    it('gives a record back exactly as written', async () => {
      const problem = recordOf('p', {
        status: 404,
        answer: {
          kind: 'problem',
          problem: { type: '/errors/issue-not-found', status: 404, detail: 'Zoë "q"' },
        },
      });
      const unchanged = recordOf('u', {
        status: 200,
        answer: { kind: 'outcome', stream: 'issue-u', revision: 3, position: '9', extra: {}, changed: false },
      });
      for (const record of [recordOf('a'), problem, unchanged]) {
        expect(await store.put(record)).toBe(true);
        expect(await store.get(record.scope)).toEqual(record);
      }
    });

    it('writes a scope once: a second put changes nothing and says so', async () => {
      const first = recordOf('a');
      expect(await store.put(first)).toBe(true);
      expect(await store.put(recordOf('a', { requestHash: 'other'.padEnd(64, '0'), status: 200 }))).toBe(
        false,
      );
      expect(await store.get(first.scope)).toEqual(first);
    });

    it('keeps scopes apart', async () => {
      await store.put(recordOf('a'));
      await store.put(recordOf('b', { status: 200 }));
      expect(await store.get(scopeOf('a'))).toEqual(recordOf('a'));
      expect(await store.get(scopeOf('b'))).toEqual(recordOf('b', { status: 200 }));
    });

    it('shares records with another handle on the same storage, which cannot replace them', async () => {
      await store.put(recordOf('a'));
      const other = await subject.reopen();
      expect(await other.get(scopeOf('a'))).toEqual(recordOf('a'));
      expect(await other.put(recordOf('a', { status: 404 }))).toBe(false);
      expect(await other.put(recordOf('b'))).toBe(true);
      expect(await store.get(scopeOf('b'))).toEqual(recordOf('b'));
    });

    describe('claims', () => {
      const T0 = '2026-01-01T00:00:00.000Z';
      const T1 = '2026-01-01T00:00:30.000Z';
      const AFTER = '2026-01-01T00:00:30.001Z';
      const claimOf = (holder: string, expiresAt = T1) => ({ scope: scopeOf('c'), holder, expiresAt });

      it('holds a scope for one holder at a time, across handles on the same storage', async () => {
        const other = await subject.reopen();
        expect(await store.claim(claimOf('h1'), T0)).toBe(true);
        expect(await other.claim(claimOf('h2'), T0)).toBe(false);
        expect(await store.claim(claimOf('h3'), T0)).toBe(false);
        expect(await store.claim({ ...claimOf('h2'), scope: scopeOf('d') }, T0)).toBe(true);
      });

      it('frees a scope on release by its holder only', async () => {
        const other = await subject.reopen();
        expect(await store.claim(claimOf('h1'), T0)).toBe(true);
        await other.release(scopeOf('c'), 'h2');
        expect(await other.claim(claimOf('h2'), T0)).toBe(false);
        await store.release(scopeOf('c'), 'h1');
        expect(await other.claim(claimOf('h2'), T0)).toBe(true);
      });

      it('lets another holder take a claim once it has expired (its holder crashed), and only then', async () => {
        const other = await subject.reopen();
        expect(await store.claim(claimOf('crashed'), T0)).toBe(true);
        expect(await other.claim(claimOf('h2', '2026-01-01T00:01:00.000Z'), '2026-01-01T00:00:29.999Z')).toBe(
          false,
        );
        expect(await other.claim(claimOf('h2', '2026-01-01T00:01:00.000Z'), AFTER)).toBe(true);
        // The crashed holder's late release leaves the new claim alone.
        await store.release(scopeOf('c'), 'crashed');
        expect(await store.claim(claimOf('h3', '2026-01-01T00:02:00.000Z'), AFTER)).toBe(false);
      });

      it('are apart from records, which neither take nor free a claim and never expire', async () => {
        expect(await store.claim(claimOf('h1'), T0)).toBe(true);
        const record = recordOf('c');
        expect(await store.put(record)).toBe(true);
        expect(await store.claim(claimOf('h2'), T0)).toBe(false);
        await store.release(scopeOf('c'), 'h1');
        expect(await store.get(scopeOf('c'))).toEqual(record);
        expect(await store.claim(claimOf('h2'), '2999-01-01T00:00:00.000Z')).toBe(true);
        expect(await store.get(scopeOf('c'))).toEqual(record);
      });
    });

    it('gives every handle on the storage the same fingerprint key, 32 bytes, made once', async () => {
      const other = await subject.reopen();
      const [first, second] = await Promise.all([store.fingerprintKey(), other.fingerprintKey()]);
      expect(first).toHaveLength(32);
      expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
      expect(Buffer.from(await store.fingerprintKey()).equals(Buffer.from(first))).toBe(true);
      const third = await subject.reopen();
      expect(Buffer.from(await third.fingerprintKey()).equals(Buffer.from(first))).toBe(true);
    });
  });
}
