import { Inject, Injectable } from '@nestjs/common';
import { API_KEY_STORE, type ApiKeyStore } from '../application/ports/api-key-store.port';

/**
 * Names the actors of answers at read time: an event records its API key's id only (names change hands,
 * ids do not), and `actorName` is looked up when answering, never written into stored metadata, so the hash
 * chain covers exactly what was appended. Revoked keys keep their names; an id no key has (a system actor,
 * or a key store restored without it) answers `null`.
 */
@Injectable()
export class ActorNames {
  constructor(@Inject(API_KEY_STORE) private readonly keys: ApiKeyStore) {}

  /** The name of each key id; the key table is small (one row per client), so one read per answer. */
  async byId(): Promise<ReadonlyMap<string, string>> {
    return new Map((await this.keys.list()).map((record) => [record.id, record.name]));
  }

  /** The key's name for an actor id (`null` for a system actor or an id no key has). */
  static nameOf(names: ReadonlyMap<string, string>, actor: { kind: string; id: string }): string | null {
    return actor.kind === 'system' ? null : (names.get(actor.id) ?? null);
  }
}
