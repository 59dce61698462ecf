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
  });
}
