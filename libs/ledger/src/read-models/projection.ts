import type {
  CollectionSpec,
  DocumentChange,
  DocumentKey,
  ReadDocument,
} from '../application/ports/read-model-store.port';
import type { StoredEvent } from '../application/ports/event-store.port';

/** The current documents an event's application may read: exactly those its `keysFor` named. */
export interface DocumentLookup {
  /** null when the document does not exist (yet). Throws for a key that was not declared. */
  get(collection: string, id: string): ReadDocument | null;
}

/**
 * A projection (DESIGN.md): pure, events + current documents -> new documents. The projector fetches the
 * documents `keysFor` names (from the store, or from earlier events of the same batch), calls `apply`, and
 * commits the changes with the checkpoint. Replay-safe: every document it writes records the position of
 * the last event applied to it (`lastPosition`), and `apply` returns no change for an event at or before
 * it, so applying the same events twice changes nothing.
 */
export interface Projection {
  /** `[a-z][a-z-]*`, the name of its checkpoint, in /health and in `ledger rebuild <name>`. */
  readonly name: string;
  /** Bumped when `apply` changes meaning; stored documents of another version need a rebuild. */
  readonly version: number;
  readonly collections: readonly CollectionSpec[];
  /**
   * Its share of a rebuild's work relative to the others (default 1): the µs per ledger event it adds
   * to a rebuild beyond reading the event, measured alone (bench:projections), so that a parallel
   * rebuild gives each thread about as much to do.
   */
  readonly rebuildWeight?: number;
  /**
   * How many of its documents a rebuild holds in memory before writing them together (default 2,000,
   * DeferredCommits). More pays only for small documents rewritten again and again over the whole
   * history, which are then written once per flush instead of once per event.
   */
  readonly rebuildHoldDocuments?: number;
  /** The streams it reads, as stream-name prefixes (`issue-`, `charge-`): the subscription filter. */
  readonly streamPrefixes: readonly string[];
  /**
   * The documents `apply` will read or write for this event; derived from the event alone. Those of a
   * `writeOnce` collection are written only: the projector does not fetch them and they cannot be read.
   */
  keysFor(event: StoredEvent): DocumentKey[];
  /** The documents this event changes; [] for events it ignores. Never throws for a valid history. */
  apply(event: StoredEvent, current: DocumentLookup): DocumentChange[];
}
