import { createHash, randomBytes } from 'node:crypto';
import { ROLES, type ApiKeyRecord, type ApiKeyStore, type Role } from '../ports/api-key-store.port';
import { containsCardNumber } from '../card-data';

export interface ApiKeyRequest {
  name: string;
  roles: readonly string[];
}

/** Injected so tests can fix time and randomness; production uses the defaults. */
export interface ApiKeyDeps {
  now: () => Date;
  random: (size: number) => Buffer;
}

export interface GeneratedApiKey {
  record: ApiKeyRecord;
  /** The whole key; shown to its owner once, never stored. */
  key: string;
}

/** The request names no role, an unknown role, or no name. */
export class InvalidApiKeyRequestError extends Error {
  override readonly name = 'InvalidApiKeyRequestError';
}

/** A live key already has the name: names tell actors apart (`actorName`), so they are unique. */
export class DuplicateApiKeyNameError extends Error {
  override readonly name = 'DuplicateApiKeyNameError';
  constructor(
    readonly keyName: string,
    readonly existingId: string,
  ) {
    super(
      `A live API key is already named "${keyName}" (id ${existingId}); choose another name, or revoke that key first`,
    );
  }
}

/**
 * The live keys that share a name with another live key: made before names had to be unique. Revoked keys
 * keep their names (they still name the actors of what they sent) but free them for new keys.
 */
export function duplicateKeyNames(records: readonly ApiKeyRecord[]): Map<string, ApiKeyRecord[]> {
  const byName = new Map<string, ApiKeyRecord[]>();
  for (const record of records) {
    if (record.revokedAt !== null) continue;
    byName.set(record.name, [...(byName.get(record.name) ?? []), record]);
  }
  return new Map([...byName].filter(([, shared]) => shared.length > 1));
}

const defaultDeps: ApiKeyDeps = { now: () => new Date(), random: randomBytes };

const KEY_PREFIX = 'pil_';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
// 32 symbols, so every random byte maps to one without bias; no `_`, so the key splits unambiguously.
const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const KEY_PATTERN = /^pil_[0-9a-z]{12}_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function isRole(role: string): role is Role {
  return (ROLES as readonly string[]).includes(role);
}

function validRequest(request: ApiKeyRequest): { name: string; roles: Role[] } {
  const name = request.name.trim();
  if (!name) throw new InvalidApiKeyRequestError('An API key needs a name');
  // The HTTP edge refuses card data before this; the CLI's --name reaches here directly.
  if (containsCardNumber(name)) {
    throw new InvalidApiKeyRequestError(
      'An API key name must not hold a card number; card data is never stored',
    );
  }
  if (request.roles.length === 0) throw new InvalidApiKeyRequestError('An API key needs at least one role');
  const unknown = request.roles.filter((role) => !isRole(role));
  if (unknown.length > 0) {
    throw new InvalidApiKeyRequestError(
      `Unknown role(s) ${unknown.join(', ')}; expected one of ${ROLES.join(', ')}`,
    );
  }
  return { name, roles: [...new Set(request.roles as Role[])] };
}

function newKeyId(random: ApiKeyDeps['random']): string {
  return Array.from(random(ID_LENGTH), (byte) => ID_ALPHABET[byte % ID_ALPHABET.length]).join('');
}

/** Creates and stores a key; only the SHA-256 of the returned key is kept. */
export async function generateApiKey(
  store: ApiKeyStore,
  request: ApiKeyRequest,
  deps: Partial<ApiKeyDeps> = {},
): Promise<GeneratedApiKey> {
  const { now, random } = { ...defaultDeps, ...deps };
  const { name, roles } = validRequest(request);
  // Checked, then inserted: keys are created by an operator (CLI, first start), not concurrently at rate.
  const taken = (await store.list()).find((record) => record.revokedAt === null && record.name === name);
  if (taken) throw new DuplicateApiKeyNameError(name, taken.id);
  const id = newKeyId(random);
  const key = `${KEY_PREFIX}${id}_${random(SECRET_BYTES).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id,
    name,
    roles,
    secretHash: hashApiKey(key),
    createdAt: now().toISOString(),
    revokedAt: null,
  };
  await store.insert(record);
  return { record, key };
}

/** The live key record for a presented key, or null for a malformed, unknown or revoked key. */
export async function authenticate(store: ApiKeyStore, presentedKey: string): Promise<ApiKeyRecord | null> {
  if (!KEY_PATTERN.test(presentedKey)) return null;
  const record = await store.findBySecretHash(hashApiKey(presentedKey));
  if (!record || record.revokedAt !== null) return null;
  // The id is part of the key; a mismatch means a corrupted row, not a valid key.
  return record.id === presentedKey.slice(KEY_PREFIX.length, KEY_PREFIX.length + ID_LENGTH) ? record : null;
}

/** Returns false when no such key exists or it was already revoked. */
export function revokeApiKey(
  store: ApiKeyStore,
  id: string,
  deps: Partial<ApiKeyDeps> = {},
): Promise<boolean> {
  return store.revoke(id, (deps.now ?? defaultDeps.now)().toISOString());
}

/**
 * Creates the first `admin` key on an empty store so a fresh install can be administered; the caller
 * prints it once. Returns null when any key, even a revoked one, already exists.
 */
export async function ensureBootstrapAdminKey(
  store: ApiKeyStore,
  deps: Partial<ApiKeyDeps> = {},
): Promise<GeneratedApiKey | null> {
  if ((await store.count()) > 0) return null;
  return generateApiKey(store, { name: 'admin', roles: ['admin'] }, deps);
}

/** How long a successful authentication is reused before the store is asked again. */
export const AUTHENTICATION_CACHE_TTL_MS = 1000;
const AUTHENTICATION_CACHE_MAX_ENTRIES = 10_000;

/**
 * `authenticate` with a short-lived cache of successful lookups, keyed by the key's SHA-256 (the key itself
 * is never kept). A revocation takes effect within the TTL (README, Configuration); unknown keys are never
 * cached, so guessing cannot fill the cache.
 */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { record: ApiKeyRecord; until: number }>();

  constructor(
    private readonly store: ApiKeyStore,
    private readonly ttlMs: number = AUTHENTICATION_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(presentedKey: string): Promise<ApiKeyRecord | null> {
    if (!KEY_PATTERN.test(presentedKey)) return null;
    const hash = hashApiKey(presentedKey);
    const cached = this.cache.get(hash);
    if (cached && cached.until > this.now()) return cached.record;
    this.cache.delete(hash);
    const record = await authenticate(this.store, presentedKey);
    if (record && this.ttlMs > 0) {
      if (this.cache.size >= AUTHENTICATION_CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(hash, { record, until: this.now() + this.ttlMs });
    }
    return record;
  }
}
