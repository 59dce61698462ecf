import { ImportRejectedError, type StoredEvent } from '../application/ports/event-store.port';
import { canonicalEventBytes, eventHash, ZERO_HASH } from './event-hash';

/** The last event of a stream on the store importing: revision -1 and the zero hash for an absent stream. */
export interface ImportHead {
  revision: number;
  hash: string;
}

export const ABSENT_STREAM_HEAD: ImportHead = { revision: -1, hash: ZERO_HASH };

/**
 * Checks a batch given to `EventStore.importEvents` before anything of it is stored, so that both adapters
 * refuse the same events for the same reasons: each event's bytes encode its fields and hash to its hash,
 * and each follows its stream's head, the store's for the first event of a stream in the batch and the
 * previous event of the batch after that. Answers the heads the batch leaves, by stream.
 */
export function checkImportBatch(
  events: readonly StoredEvent[],
  headOnStore: (stream: string) => ImportHead,
): Map<string, ImportHead> {
  const heads = new Map<string, ImportHead>();
  for (const event of events) {
    const refuse = (reason: ImportRejectedError['reason'], detail: string): never => {
      throw new ImportRejectedError(event.stream, event.revision, reason, detail);
    };
    let encoded: string | undefined;
    try {
      encoded = canonicalEventBytes(event);
    } catch {
      encoded = undefined;
    }
    if (encoded !== event.canonical) {
      refuse('canonical-mismatch', 'the canonical bytes do not encode the event');
    }
    const hash = eventHash(event.canonical);
    if (hash !== event.metadata.hash) {
      refuse('hash-mismatch', `hash ${event.metadata.hash}, the bytes hash to ${hash}`);
    }
    const head = heads.get(event.stream) ?? headOnStore(event.stream);
    if (event.revision !== head.revision + 1) {
      refuse(
        'revision-mismatch',
        head.revision === -1
          ? `the stream does not exist here, so its first event must be revision 0`
          : `the stream's last revision here is ${head.revision}`,
      );
    }
    if (event.metadata.prevHash !== head.hash) {
      refuse(
        'prev-hash-mismatch',
        `prevHash ${event.metadata.prevHash}, the previous hash here ${head.hash}`,
      );
    }
    heads.set(event.stream, { revision: event.revision, hash });
  }
  return heads;
}
