/**
 * What chain verification reads: stored events as their raw stored text, in global order, plus the
 * per-stream heads where the engine keeps them. The embedded adapter reads the SQLite file on its own
 * read-only connection; `EventStoreVerificationSource` works over the EventStore port on any engine.
 */

/** One stored event as stored: JSON columns as text, so nothing is re-encoded before it is checked. */
export interface RawEventRow {
  /** Global position (an integer; a number is exact up to 2^53). */
  position: number;
  stream: string;
  revision: number;
  type: string;
  schemaVersion: number;
  /** The stored data, JCS text. */
  data: string;
  /** The stored metadata including `hash`, JCS text. */
  metadata: string;
  /** The canonical bytes the hash covers. */
  canonical: string;
  /** The stored hash (a column of its own in SQLite; metadata.hash elsewhere). */
  hash: string;
}

/** An engine's own record of a stream's newest event (SQLite: the `streams` table). */
export interface StreamHeadRow {
  stream: string;
  revision: number;
  lastHash: string;
  lastPosition: number;
}

/**
 * What the scan reads per event, as a tuple (rows are read by the million):
 * [position, stream, revision, prevHash, stored hash, intact]. `intact` is the source's check of the event
 * itself (`checkStoredEvent`): the canonical bytes are exactly the JCS of the stored envelope, data and
 * metadata minus its hash member, and hash to the stored hash. Done by the source, where the columns are,
 * so they never have to be copied out for an intact event; a broken one is then read whole (`row`).
 */
export type ScannedEvent = [
  position: number,
  stream: string,
  revision: number,
  prevHash: string,
  hash: string,
  intact: boolean,
];

export interface VerificationSnapshot {
  /** Number of events the scan will read (for progress). */
  count(stream?: string): Promise<number>;
  /** Events in global position order (one stream's only, when named), in batches. */
  batches(stream?: string): AsyncIterable<ScannedEvent[]>;
  /**
   * For a source that checks the events themselves elsewhere (worker threads) while `batches` answers
   * `intact: true`: once the batches are done, the positions whose check failed. Any makes the verifier
   * scan again with `parallel: false`, so that every break is named as a sequential scan names it.
   */
  deferredFailures?(): Promise<number[]>;
  /** How many threads check the events themselves (0 or absent: `batches` does). */
  readonly checkingThreads?: number;
  /** The whole stored row of an event the scan found broken, to say what is wrong with it. */
  row(position: number): Promise<RawEventRow | null>;
  /** The engine's stream heads, or null when it keeps none. */
  heads(stream?: string): Promise<StreamHeadRow[] | null>;
}

export interface VerificationSource {
  /**
   * Positions are 1-based and dense (SQLite: position - 1 is the ledger sequence), so a missing position is
   * a removed event. EventStoreDB's commit positions are not dense.
   */
  readonly densePositions: boolean;
  /**
   * Runs `use` over one consistent snapshot of the ledger (a read transaction where the engine has one).
   * `parallel: false` asks for the events to be checked in `batches` itself.
   */
  snapshot<T>(
    use: (snapshot: VerificationSnapshot) => Promise<T>,
    options?: { parallel?: boolean; stream?: string },
  ): Promise<T>;
}

export const VERIFICATION_SOURCE = Symbol('VerificationSource');
