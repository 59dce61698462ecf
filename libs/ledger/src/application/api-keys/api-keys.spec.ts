import Database from 'better-sqlite3';
import { SqliteApiKeyStore } from '@app/read-store';
import {
  ApiKeyAuthenticator,
  authenticate,
  ensureBootstrapAdminKey,
  generateApiKey,
  hashApiKey,
  DuplicateApiKeyNameError,
  duplicateKeyNames,
  InvalidApiKeyRequestError,
  revokeApiKey,
} from './api-keys';

const now = () => new Date('2025-06-01T12:00:00.000Z');
/** Deterministic bytes: 0, 1, 2, ... so ids and secrets are predictable. */
const counting = (size: number) => Buffer.from(Array.from({ length: size }, (_, index) => index));

describe('API keys', () => {
  let db: Database.Database;
  let store: SqliteApiKeyStore;

  beforeEach(() => {
    db = new Database(':memory:');
    store = new SqliteApiKeyStore(db);
  });
  afterEach(() => db.close());

  describe('generateApiKey', () => {
    it('returns pil_<id>_<secret> and stores only its SHA-256', async () => {
      const { key, record } = await generateApiKey(
        store,
        { name: 'support desk', roles: ['agent'] },
        { now, random: counting },
      );
      const secret = counting(32).toString('base64url');
      expect(key).toBe(`pil_0123456789ab_${secret}`);
      expect(record).toEqual({
        id: '0123456789ab',
        name: 'support desk',
        roles: ['agent'],
        secretHash: hashApiKey(key),
        createdAt: '2025-06-01T12:00:00.000Z',
        revokedAt: null,
      });
      expect(record.secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(await store.list()).toEqual([record]);
      expect(JSON.stringify(db.prepare('SELECT * FROM api_keys').all())).not.toContain(secret);
    });

    it('makes url-safe keys of a fixed shape from real randomness', async () => {
      const keys = await Promise.all(
        [1, 2, 3].map((n) => generateApiKey(store, { name: `n${n}`, roles: ['service'] })),
      );
      for (const { key, record } of keys) {
        expect(key).toMatch(/^pil_[0-9a-z]{12}_[A-Za-z0-9_-]{43}$/);
        expect(key.slice(4, 16)).toBe(record.id);
      }
      expect(new Set(keys.map(({ key }) => key)).size).toBe(3);
    });

    it('keeps each role once', async () => {
      const { record } = await generateApiKey(store, { name: 'n', roles: ['agent', 'auditor', 'agent'] });
      expect(record.roles).toEqual(['agent', 'auditor']);
    });

    it.each([
      [{ name: ' ', roles: ['agent'] }, /name/],
      [{ name: 'n', roles: [] }, /at least one role/],
      [{ name: 'n', roles: ['agent', 'root'] }, /Unknown role\(s\) root/],
    ])('refuses %j', async (request, message) => {
      await expect(generateApiKey(store, request)).rejects.toThrow(InvalidApiKeyRequestError);
      await expect(generateApiKey(store, request)).rejects.toThrow(message);
      expect(await store.count()).toBe(0);
    });
  });

  describe('unique names', () => {
    it('refuses a second live key with the same name, and frees the name once the first is revoked', async () => {
      const { record } = await generateApiKey(store, { name: 'billing', roles: ['service'] });
      await expect(generateApiKey(store, { name: ' billing ', roles: ['agent'] })).rejects.toThrow(
        new DuplicateApiKeyNameError('billing', record.id),
      );
      expect(await store.count()).toBe(1);
      await revokeApiKey(store, record.id);
      const second = await generateApiKey(store, { name: 'billing', roles: ['agent'] });
      expect(second.record.name).toBe('billing');
    });

    it('lists the live keys that share a name (stored before names were unique)', async () => {
      const row = (id: string, name: string, revokedAt: string | null = null) => ({
        id,
        name,
        roles: ['agent' as const],
        secretHash: id.padEnd(64, '0'),
        createdAt: '2025-06-01T12:00:00.000Z',
        revokedAt,
      });
      for (const record of [row('a', 'desk'), row('b', 'desk'), row('c', 'ops'), row('d', 'ops', 'x')]) {
        await store.insert(record);
      }
      const duplicates = duplicateKeyNames(await store.list());
      expect([...duplicates.keys()]).toEqual(['desk']);
      expect(duplicates.get('desk')!.map((record) => record.id)).toEqual(['a', 'b']);
    });
  });

  describe('authenticate', () => {
    it('finds the record of a live key', async () => {
      const { key, record } = await generateApiKey(store, { name: 'n', roles: ['analyst'] });
      expect(await authenticate(store, key)).toEqual(record);
    });

    it('rejects a revoked key', async () => {
      const { key, record } = await generateApiKey(store, { name: 'n', roles: ['analyst'] });
      expect(await revokeApiKey(store, record.id, { now })).toBe(true);
      expect(await authenticate(store, key)).toBeNull();
      expect((await store.list())[0].revokedAt).toBe('2025-06-01T12:00:00.000Z');
    });

    it('rejects unknown, altered and malformed keys', async () => {
      const { key } = await generateApiKey(store, { name: 'n', roles: ['analyst'] });
      const altered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
      for (const presented of [altered, '', 'pil_', key.toUpperCase(), `${key}x`, `Bearer ${key}`]) {
        expect(await authenticate(store, presented)).toBeNull();
      }
    });
  });

  describe('ApiKeyAuthenticator (cached)', () => {
    it('reuses a successful lookup within the TTL and sees a revocation once it has passed', async () => {
      let clock = 1_000;
      const authenticator = new ApiKeyAuthenticator(store, 1000, () => clock);
      const { key, record } = await generateApiKey(store, { name: 'n', roles: ['service'] });
      expect(await authenticator.authenticate(key)).toEqual(record);
      await revokeApiKey(store, record.id, { now });
      clock += 999;
      expect(await authenticator.authenticate(key)).toEqual(record);
      clock += 1;
      expect(await authenticator.authenticate(key)).toBeNull();
      // Once refused, it stays refused: failures are not cached, and the record is now revoked.
      expect(await authenticator.authenticate(key)).toBeNull();
    });

    it('does not cache unknown keys: a key created later authenticates at once', async () => {
      const authenticator = new ApiKeyAuthenticator(store, 60_000, () => 0);
      const { key } = await generateApiKey(store, { name: 'n', roles: ['agent'] });
      const altered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
      expect(await authenticator.authenticate(altered)).toBeNull();
      expect(await authenticator.authenticate(key)).not.toBeNull();
      expect(await authenticator.authenticate('not-a-key')).toBeNull();
    });
  });

  describe('ensureBootstrapAdminKey', () => {
    it('creates an admin key on an empty store, and only then', async () => {
      const bootstrap = await ensureBootstrapAdminKey(store, { now });
      expect(bootstrap?.record).toMatchObject({ name: 'admin', roles: ['admin'] });
      expect(await authenticate(store, bootstrap!.key)).toEqual(bootstrap!.record);
      expect(await ensureBootstrapAdminKey(store)).toBeNull();
      expect(await store.count()).toBe(1);
    });

    it('does not recreate an admin key when all keys are revoked', async () => {
      const { record } = await generateApiKey(store, { name: 'n', roles: ['agent'] });
      await revokeApiKey(store, record.id);
      expect(await ensureBootstrapAdminKey(store)).toBeNull();
    });
  });
});
