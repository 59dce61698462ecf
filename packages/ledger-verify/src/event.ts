import { bytesToHex, utf8 } from './bytes';
import { canonicalize } from './canonical-json';
import type { VerifyCrypto } from './crypto';

/** prevHash of the first event of every stream. */
export const ZERO_HASH = '0'.repeat(64);

/** The stored fields an event hash covers (docs/hashing.md §1). */
export interface CanonicalEventFields {
  stream: string;
  revision: number;
  type: string;
  schemaVersion: number;
  data: object;
  /** `hash` may be present (a stored event); it is left out, since it is the hash of these bytes. */
  metadata: { hash?: string; prevHash?: string };
}

/** The JCS text whose UTF-8 bytes are hashed (docs/hashing.md §1-2). */
export function canonicalEventBytes(event: CanonicalEventFields): string {
  const { hash: _hash, ...metadata } = event.metadata;
  return canonicalize({
    stream: event.stream,
    revision: event.revision,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata,
  });
}

/** Lowercase hex SHA-256 of the canonical text's UTF-8 bytes. */
export async function eventHash(crypto: VerifyCrypto, canonical: string): Promise<string> {
  return bytesToHex(await crypto.sha256(utf8(canonical)));
}
