import { createHash, randomFillSync } from 'node:crypto';

export interface IdGenerator {
  /** A time-ordered UUIDv7. */
  next(): string;
}
export const ID_GENERATOR = Symbol('IdGenerator');

function format(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** CSPRNG bytes drawn in blocks: one randomFillSync per 409 ids instead of one call per id. */
const RANDOM_POOL = Buffer.alloc(4096);
let poolOffset = RANDOM_POOL.length;

function randomTen(): Buffer {
  if (poolOffset + 10 > RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    poolOffset = 0;
  }
  const slice = RANDOM_POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return slice;
}

/** RFC 9562 UUIDv7: 48-bit Unix milliseconds, then random bits. */
export function uuidv7(now: number = Date.now(), random: Buffer = randomTen()): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(now, 0, 6);
  random.copy(bytes, 6, 0, 10);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return format(bytes);
}

function parseUuid(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** RFC 9562 UUIDv5 (SHA-1 of namespace and name). */
export function uuidv5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(parseUuid(namespace)).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return format(bytes);
}

/**
 * Namespace for ids derived from (API key id, Idempotency-Key): a retry of a creating command lands on
 * the same stream on any engine. Fixed forever: changing it would fork every retried creation.
 */
export const IDEMPOTENT_ID_NAMESPACE = '4f1c2a9e-7d3b-5c8e-9a61-0b2d3e4f5a6b';

export function idempotentId(apiKeyId: string, idempotencyKey: string): string {
  return uuidv5(JSON.stringify([apiKeyId, idempotencyKey]), IDEMPOTENT_ID_NAMESPACE);
}

export const uuidv7Generator: IdGenerator = { next: () => uuidv7() };
