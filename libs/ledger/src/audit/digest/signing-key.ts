import { generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import type { DigestStore } from '../../application/ports/digest-store.port';
import type { Clock } from '../../application/ports/clock.port';
import { parseSigningKey } from './digest-signature';

/**
 * The digest signing key: from configuration when given (never stored then), else the embedded profile's
 * key kept in the database, generated on first start. saveSigningKey keeps the first key saved, so two
 * processes starting together end up signing with the same one.
 */
export async function resolveSigningKey(
  configured: string | undefined,
  store: DigestStore,
  clock: Clock,
): Promise<{ key: KeyObject; source: 'configuration' | 'database' | 'generated' }> {
  if (configured !== undefined && configured.trim() !== '') {
    return { key: parseSigningKey(configured), source: 'configuration' };
  }
  const existing = await store.signingKey();
  if (existing) return { key: createPrivateKey(existing.privateKeyPem), source: 'database' };
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const kept = await store.saveSigningKey({ privateKeyPem: pem, createdAt: clock.now().toISOString() });
  return {
    key: createPrivateKey(kept.privateKeyPem),
    source: kept.privateKeyPem === pem ? 'generated' : 'database',
  };
}
